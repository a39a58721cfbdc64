// Activation checkpointing (train.grad_checkpointing): LibTorch's C++ API has no checkpoint(), so
// this is an autograd function of ours. The forward pass runs `fn` without recording a graph and
// keeps only its input; the backward pass runs `fn` again with the random-number and autocast
// state the forward pass saw (so that dropout draws the same mask and bf16 rounds the same way),
// then differentiates that. Memory: one block's activations at a time instead of all of them.
#pragma once

#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

namespace mmtrain {

using TensorFunction = std::function<at::Tensor(const at::Tensor&)>;

// fn(x), whose gradient reaches x and `parameters` (every tensor fn reads that may need a
// gradient; they are inputs of the node, so a frozen x does not cut them off). fn must depend on
// nothing else that changes between the forward and the backward pass.
at::Tensor recompute_in_backward(TensorFunction fn, const at::Tensor& x, const std::vector<at::Tensor>& parameters);

}  // namespace mmtrain
