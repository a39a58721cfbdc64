#include "mmtrain/models/attentional_pooler.h"

#include <cmath>

#include "mmtrain/ops/full_precision.h"

namespace mmtrain {

AttentionalPoolerImpl::AttentionalPoolerImpl(int width, int context_width, int queries, int heads) {
  query_ = register_parameter("query", torch::randn({queries, width}) * std::pow(width, -0.5));
  ln_q_ = register_module("ln_q", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  ln_k_ = register_module("ln_k", torch::nn::LayerNorm(torch::nn::LayerNormOptions({context_width})));
  attn_ = register_module("attn", CrossAttention(width, heads, context_width));
}

torch::Tensor AttentionalPoolerImpl::forward(const torch::Tensor& x) {
  auto keys = layer_norm_fp32(ln_k_, x);                                   // [B,T,Dc]
  auto queries = layer_norm_fp32(ln_q_, query_.to(keys.dtype()))          // [Q,D], the same for every image
                     .unsqueeze(0)
                     .expand({x.size(0), -1, -1});
  return attn_(queries, keys);  // [B,Q,D]
}

}  // namespace mmtrain
