// A torch::nn::Linear applied through at::linear. LibTorch 1.13's module (F::linear) runs a
// [B,T,D] input as matmul and then `out += bias`; under autocast that adds the fp32 bias into the
// bf16 output through a full fp32 copy of it (6 ms of a 9 ms MLP layer on the tiny ViT). at::linear
// folds the bias into the GEMM (addmm over the flattened rows) and autocast casts it with the weight.
#pragma once

#include <torch/nn/modules/linear.h>

namespace mmtrain {

inline torch::Tensor linear(const torch::nn::Linear& layer, const torch::Tensor& x) {
  return torch::linear(x, layer->weight, layer->bias);
}

}  // namespace mmtrain
