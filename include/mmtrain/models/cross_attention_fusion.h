// Cross-attention fusion (ALBEF's fusion encoder): text tokens attend to themselves, then to the
// image tokens, in each of `layers` pre-LN blocks; the match head reads the fused end-of-text
// token. The dual encoder stays for the contrastive path.
#pragma once

#include <torch/nn/modules/container/modulelist.h>

#include "mmtrain/models/match_fusion.h"
#include "mmtrain/models/transformer.h"

namespace mmtrain {

// Attention whose queries and keys/values come from different sequences, so its input projection
// is split: q_proj on the queries, kv_proj (rows k;v) on the context, which may be wider or
// narrower than the queries (context_width; 0 = width).
class CrossAttentionImpl : public torch::nn::Module {
 public:
  CrossAttentionImpl(int width, int heads, int context_width = 0);
  // x [B,Tq,D] queries, context [B,Tk,Dc], additive mask broadcasting to [B,H,Tq,Tk] or undefined
  // -> [B,Tq,D]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context,
                        const torch::Tensor& attn_mask = {});
  void reset_parameters(double in_std, double out_std);

 private:
  int heads_;
  torch::nn::Linear q_proj_{nullptr};    // D -> D
  torch::nn::Linear kv_proj_{nullptr};   // Dc -> 2D
  torch::nn::Linear out_proj_{nullptr};  // D -> D
};
TORCH_MODULE(CrossAttention);

// Pre-LN: self-attention over text, cross-attention text -> image, MLP; each adds to the stream.
class CrossAttentionBlockImpl : public torch::nn::Module {
 public:
  explicit CrossAttentionBlockImpl(const TransformerOptions& options);
  // x [B,Tt,W], image [B,Ti,W], additive masks of text and image keys ([B,1,1,T] or undefined)
  // -> [B,Tt,W]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& image,
                        const torch::Tensor& text_bias, const torch::Tensor& image_bias);
  void reset_parameters(double attn_std, double proj_std, double fc_std);

 private:
  torch::nn::LayerNorm ln_1_{nullptr};
  SelfAttention attn_{nullptr};
  torch::nn::LayerNorm ln_cross_{nullptr};
  CrossAttention cross_attn_{nullptr};
  torch::nn::LayerNorm ln_2_{nullptr};
  Mlp mlp_{nullptr};
};
TORCH_MODULE(CrossAttentionBlock);

class CrossAttentionFusionImpl : public MatchFusionImpl {
 public:
  explicit CrossAttentionFusionImpl(const MatchFusionOptions& options);
  // The summary (what the match head scores) is the end-of-text position (the last one not padding; the last position when
  // the text has no pad_mask), not the first: the text tower is causal, so its start-of-text
  // token saw nothing of the caption, while its end-of-text token is the one it pools, the same
  // the contrastive path uses.

 protected:
  torch::Tensor summary(const Encoded& image, const Encoded& text) override;  // -> [B,W]

 private:
  torch::nn::ModuleList blocks_;
};
TORCH_MODULE(CrossAttentionFusion);

}  // namespace mmtrain
