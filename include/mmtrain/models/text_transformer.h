// The causal text transformer in CLIP's layout: token + positional embedding, causal mask,
// ln_final, pooled at the end-of-text token. With embed_cls, CoCa's layout (open_clip's
// TextTransformer with embed_cls): a learned class token appended after the text is pooled (after
// ln_final), the text positions are the tokens (without ln_final), and every query is also kept
// from keys j whose preceding token is padding (open_clip's class-token mask, shifted by one).
#pragma once

#include <torch/arg.h>
#include <torch/nn/modules/embedding.h>

#include "mmtrain/models/tower.h"
#include "mmtrain/models/transformer.h"

namespace mmtrain {

// The vocabulary is the tokenizer's, with no default that is right for every tokenizer (a wrong
// end-of-text id would pool the wrong token without an error); the rest defaults to CLIP's text
// tower and is set by name.
struct TextTransformerOptions {
  TextTransformerOptions(int64_t vocab_size, int64_t eos_id) : vocab_size_(vocab_size), eos_id_(eos_id) {}
  TORCH_ARG(int64_t, vocab_size);
  TORCH_ARG(int64_t, eos_id);
  TORCH_ARG(int, context_length) = 77;
  TORCH_ARG(int, width) = 512;
  TORCH_ARG(int, layers) = 12;
  TORCH_ARG(int, heads) = 8;
  TORCH_ARG(double, mlp_ratio) = 4.0;
  TORCH_ARG(Activation, act) = Activation::Gelu;
  TORCH_ARG(bool, embed_cls) = false;
  TORCH_ARG(int64_t, pad_id) = 0;  // embed_cls: the padding the class-token mask looks for
};

class TextTransformerImpl : public TextTowerImpl {
 public:
  explicit TextTransformerImpl(const TextTransformerOptions& options);
  Encoded forward(const torch::Tensor& tokens) override;  // [B,L] -> tokens [B,L,D]
  torch::Tensor forward_pooled(const torch::Tensor& tokens) override;  // -> [B,D]
  int width() const override { return options_.width(); }
  std::vector<DepthGroup> depth_groups() override;

 private:
  torch::Tensor stream_in(const torch::Tensor& tokens);  // [B,L] -> [B,L,D] embedded
  torch::Tensor eot_positions(const torch::Tensor& tokens) const;  // [B,L] -> [B]
  torch::Tensor pad_mask(const torch::Tensor& tokens) const;       // [B,L] -> [B,L] true after end-of-text
  Encoded forward_with_cls(const torch::Tensor& tokens);

  TextTransformerOptions options_;
  torch::nn::Embedding token_embedding_{nullptr};
  torch::Tensor positional_embedding_;  // [L,D], [L+1,D] with embed_cls
  torch::Tensor cls_emb_;               // [D] with embed_cls
  Transformer transformer_{nullptr};
  torch::nn::LayerNorm ln_final_{nullptr};
};
TORCH_MODULE(TextTransformer);

}  // namespace mmtrain
