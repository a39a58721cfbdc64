// The causal text transformer in CLIP's layout: token + positional embedding, causal mask,
// ln_final, pooled at the end-of-text token.
#pragma once

#include <torch/nn/modules/embedding.h>

#include "mmtrain/models/tower.h"
#include "mmtrain/models/transformer.h"

namespace mmtrain {

struct TextTransformerOptions {
  int64_t vocab_size = 49408;
  int context_length = 77, width = 512, layers = 12, heads = 8;
  double mlp_ratio = 4.0;
  Activation act = Activation::Gelu;
  int64_t eos_id = 49407;
};

class TextTransformerImpl : public TextTowerImpl {
 public:
  explicit TextTransformerImpl(const TextTransformerOptions& options);
  Encoded forward(const torch::Tensor& tokens) override;  // [B,L] -> tokens [B,L,D]
  torch::Tensor forward_pooled(const torch::Tensor& tokens) override;  // -> [B,D]
  int width() const override { return options_.width; }

 private:
  torch::Tensor stream_in(const torch::Tensor& tokens);  // [B,L] -> [B,L,D] embedded
  torch::Tensor eot_positions(const torch::Tensor& tokens) const;  // [B,L] -> [B]

  TextTransformerOptions options_;
  torch::nn::Embedding token_embedding_{nullptr};
  torch::Tensor positional_embedding_;  // [L,D]
  Transformer transformer_{nullptr};
  torch::nn::LayerNorm ln_final_{nullptr};
};
TORCH_MODULE(TextTransformer);

}  // namespace mmtrain
