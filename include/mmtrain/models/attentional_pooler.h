// CoCa's attentional pooler (open_clip's AttentionalPooler): a fixed set of learned queries attends
// over a tower's tokens, so a ViT gives `queries` outputs of its own width whatever its patch grid:
// the first feeds the contrastive embedding, the others are the image tokens the caption decoder
// reads.
#pragma once

#include <torch/nn/modules/normalization.h>

#include "mmtrain/models/cross_attention_fusion.h"

namespace mmtrain {

class AttentionalPoolerImpl : public torch::nn::Module {
 public:
  // Queries of `width` attend over tokens of `context_width` with `heads` heads.
  AttentionalPoolerImpl(int width, int context_width, int queries, int heads);
  // x [B,T,Dc] -> [B,queries,D]
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::Tensor query_;                  // [queries,D]
  torch::nn::LayerNorm ln_q_{nullptr};   // on the queries
  torch::nn::LayerNorm ln_k_{nullptr};   // on the tokens
  CrossAttention attn_{nullptr};
};
TORCH_MODULE(AttentionalPooler);

}  // namespace mmtrain
