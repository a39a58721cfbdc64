// The trainer's part of a checkpoint: besides the model and meta that every reader needs
// (io/checkpoint_file.h), the optimizer state and LibTorch's RNG, so that a resumed run continues
// bit for bit.
#pragma once

#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "mmtrain/io/checkpoint_file.h"
#include "mmtrain/train/loss_scaler.h"

namespace mmtrain {

// A resumable checkpoint. Throws std::runtime_error naming the file when it cannot be written
// (full disk); an older file at `path` stays intact.
// With an fp16 loss scaler, its scale and growth tracker are kept too.
void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const CheckpointMeta& meta, const LossScaler* scaler = nullptr);

// Both throw std::runtime_error naming the file when it holds no such state (a weights-only
// checkpoint, e.g. from convert). The optimizer state is keyed by the model's parameter names and
// lands on each parameter's device; the CUDA RNG states are restored where their devices exist.
void restore_optimizer(const Checkpoint& checkpoint, torch::nn::Module& model, torch::optim::Optimizer& optimizer);
void restore_rng(const Checkpoint& checkpoint);
// Leaves the scaler as it is when the checkpoint holds no scaler state (written without fp16).
void restore_loss_scaler(const Checkpoint& checkpoint, LossScaler& scaler);

}  // namespace mmtrain
