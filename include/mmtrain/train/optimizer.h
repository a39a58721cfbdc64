// AdamW with two parameter groups: weight decay on matrices, none on biases, norms, embeddings
// and the logit scale (decaying those hurts contrastive training).
#pragma once

#include <memory>
#include <string>

#include <torch/nn/module.h>

#include "mmtrain/config/config.h"
#include "mmtrain/ops/fused_adamw.h"

namespace mmtrain {

bool is_decayed(const std::string& name, const torch::Tensor& parameter);

// Only parameters that require grad are handed to the optimizer (locked towers are left out).
std::unique_ptr<FusedAdamW> build_optimizer(torch::nn::Module& model, const OptimConfig& config);

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// Drops the gradients instead of zeroing them (PyTorch's zero_grad(set_to_none=True), LibTorch
// 1.13's C++ zero_grad() only zeroes): the next backward then hands its gradient over instead of
// adding it to zeros, two passes over every parameter saved. A parameter that gets no gradient
// in a step is skipped by AdamW, as in PyTorch 2.
void clear_gradients(torch::optim::Optimizer& optimizer);

}  // namespace mmtrain
