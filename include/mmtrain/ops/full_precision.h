// Code that must stay fp32 under autocast (projections to the embedding space, similarities,
// LayerNorm): bf16's 8-bit mantissa would blur logits that a scale of up to 100 multiplies.
#pragma once

#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/nn/modules/normalization.h>

namespace mmtrain {

// Autocast off for its lifetime, on every device.
class FullPrecisionScope {
 public:
  FullPrecisionScope()
      : guard_(c10::DispatchKeySet({c10::DispatchKey::AutocastCPU, c10::DispatchKey::AutocastCUDA})) {}

 private:
  c10::impl::ExcludeDispatchKeyGuard guard_;
};

// LibTorch 1.13's LayerNorm wants its input in its parameters' dtype.
inline torch::Tensor layer_norm_fp32(torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  return norm(x.scalar_type() == torch::kFloat ? x : x.to(torch::kFloat));
}

}  // namespace mmtrain
