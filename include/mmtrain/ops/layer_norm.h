// The LayerNorm ahead of a linear layer (ln_1 before attention's in-projection, ln_2 before the
// MLP). Under CPU bf16 autocast that layer casts the fp32 LayerNorm's result to bf16 anyway; where
// the CPU has AVX512-BF16 (kernels/layer_norm_bf16.h) the normalisation rounds it in its own pass,
// and its backward pass takes the bf16 gradient where autocast's cast would first widen it. The
// arithmetic stays fp32 throughout, as autocast's LayerNorm. Anywhere else: layer_norm_fp32.
#pragma once

#include <torch/nn/modules/normalization.h>

namespace mmtrain {

// bf16 under CPU bf16 autocast with the fused kernel available, else fp32 as layer_norm_fp32.
torch::Tensor layer_norm_for_linear(torch::nn::LayerNorm& norm, const torch::Tensor& x);

}  // namespace mmtrain
