// The captioning decoder (CoCa's multimodal text decoder, as open_clip lays it out): the text
// tower's token outputs continue through `layers` pairs of blocks, a causal self-attention block
// and a cross-attention block over the image tokens, then a final norm and a projection onto the
// tokenizer's vocabulary. Position t's logits predict token t+1. The text tower's pooled output
// still feeds the contrastive loss, so one forward pass serves both terms.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "mmtrain/heads/task_head.h"
#include "mmtrain/models/cross_attention_fusion.h"
#include "mmtrain/models/transformer.h"

namespace mmtrain {

// Pre-LN cross-attention with its own MLP (open_clip's ResidualAttentionBlock with
// is_cross_attention): the queries and the image tokens are normalised separately.
class DecoderCrossBlockImpl : public torch::nn::Module {
 public:
  explicit DecoderCrossBlockImpl(const TransformerOptions& options);
  // x [B,L,W], image [B,T,W] -> [B,L,W]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& image);
  void reset_parameters(double attn_std, double proj_std, double fc_std);

 private:
  torch::nn::LayerNorm ln_1_{nullptr};
  torch::nn::LayerNorm ln_1_kv_{nullptr};
  CrossAttention attn_{nullptr};
  torch::nn::LayerNorm ln_2_{nullptr};
  Mlp mlp_{nullptr};
};
TORCH_MODULE(DecoderCrossBlock);

class CaptionDecoderImpl : public TaskHeadImpl {
 public:
  CaptionDecoderImpl(const HeadConfig& config, const HeadDims& dims);
  // The model's outputs (every token of both towers) -> logits [B,L,V].
  torch::Tensor forward(const ModelOutput& output) override;
  bool reads_tokens() const override { return true; }
  // image_tokens [B,T,Dv] (the vision tower's), text_tokens [B,L,W] (the text tower's) -> [B,L,V]
  torch::Tensor logits(const torch::Tensor& image_tokens, const torch::Tensor& text_tokens);
  // The image side alone, computed once per image for generation: [B,T,Dv] -> [B,T,W]
  torch::Tensor image_context(const torch::Tensor& image_tokens);
  // The text side over an already projected context: text_tokens [B,L,W], context [B,T,W] -> [B,L,V]
  torch::Tensor decode(const torch::Tensor& text_tokens, const torch::Tensor& context);

 private:
  torch::nn::Linear image_proj_{nullptr};  // Dv -> W; only when the widths differ
  torch::nn::ModuleList resblocks_;         // causal self-attention + MLP
  torch::nn::ModuleList cross_attn_;        // cross-attention to the image + MLP
  torch::nn::LayerNorm ln_final_{nullptr};
  torch::Tensor text_projection_;  // [W,V]
};
TORCH_MODULE(CaptionDecoder);

// The model's caption decoder; throws ConfigError when the model has none.
CaptionDecoderImpl& caption_decoder_of(MultimodalModelImpl& model, const std::string& what);

void register_caption_head();

}  // namespace mmtrain
