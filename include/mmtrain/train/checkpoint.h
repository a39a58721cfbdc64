// The trainer's part of a checkpoint: besides the model and meta that every reader needs
// (io/checkpoint_file.h), the optimizer state and LibTorch's RNG, so that a resumed run continues
// bit for bit.
#pragma once

#include <string>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "mmtrain/io/checkpoint_file.h"

namespace mmtrain {

// A resumable checkpoint. Throws std::runtime_error naming the file when it cannot be written
// (full disk); an older file at `path` stays intact.
void save_checkpoint(const std::string& path, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                     const CheckpointMeta& meta);

// Both throw std::runtime_error naming the file when it holds no such state (a weights-only
// checkpoint, e.g. from convert).
void restore_optimizer(const Checkpoint& checkpoint, torch::optim::Optimizer& optimizer);
void restore_rng(const Checkpoint& checkpoint);

}  // namespace mmtrain
