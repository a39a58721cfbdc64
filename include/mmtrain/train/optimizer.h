// AdamW with two parameter groups: weight decay on matrices, none on biases, norms, embeddings
// and the logit scale (decaying those hurts contrastive training). With layer-wise learning rates
// each of the two splits further by learning-rate multiplier.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include <torch/nn/module.h>

#include "mmtrain/config/config.h"
#include "mmtrain/ops/fused_adamw.h"

namespace mmtrain {

class MultimodalModelImpl;

bool is_decayed(const std::string& name, const torch::Tensor& parameter);

// Learning-rate multipliers by parameter (its TensorImpl); a parameter not listed has 1.
using LrScales = std::unordered_map<const void*, double>;

// optim.layer_decay: each tower's depth group d steps from the top (its projection is 0) gets
// decay^d; the rest of the model (fusion, head, logit scale) 1. Logs each group's multiplier.
LrScales layer_decay_scales(MultimodalModelImpl& model, double decay);

// Only parameters that require grad are handed to the optimizer (locked towers are left out).
std::unique_ptr<FusedAdamW> build_optimizer(torch::nn::Module& model, const OptimConfig& config,
                                            const LrScales& lr_scales = {});

// Every group's learning rate: lr times the group's multiplier.
void set_learning_rate(FusedAdamW& optimizer, double lr);

// Drops the gradients instead of zeroing them (PyTorch's zero_grad(set_to_none=True), LibTorch
// 1.13's C++ zero_grad() only zeroes): the next backward then hands its gradient over instead of
// adding it to zeros, two passes over every parameter saved. A parameter that gets no gradient
// in a step is skipped by AdamW, as in PyTorch 2.
void clear_gradients(torch::optim::Optimizer& optimizer);

}  // namespace mmtrain
