#include "mmtrain/models/text_transformer.h"

#include <cmath>
#include <limits>

#include "mmtrain/ops/full_precision.h"

namespace mmtrain {

TextTransformerImpl::TextTransformerImpl(const TextTransformerOptions& options) : options_(options) {
  // Also what catches vocab_size and eos_id passed the wrong way round.
  TORCH_CHECK(options.eos_id() >= 0 && options.eos_id() < options.vocab_size(), "text transformer: eos_id ",
              options.eos_id(), " is not an id of the ", options.vocab_size(), "-token vocabulary");
  token_embedding_ = register_module(
      "token_embedding", torch::nn::Embedding(options.vocab_size(), options.width()));
  const int positions = options.context_length() + (options.embed_cls() ? 1 : 0);
  positional_embedding_ = register_parameter("positional_embedding", torch::empty({positions, options.width()}));
  if (options.embed_cls()) cls_emb_ = register_parameter("cls_emb", torch::empty({options.width()}));
  transformer_ = register_module(
      "transformer",
      Transformer(transformer_options_of(options).act(options.act())));
  ln_final_ = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.width()})));
  torch::NoGradGuard no_grad;
  token_embedding_->weight.normal_(0.0, 0.02);
  positional_embedding_.normal_(0.0, 0.01);
  if (cls_emb_.defined()) cls_emb_.normal_(0.0, 0.01);
}

std::vector<DepthGroup> TextTransformerImpl::depth_groups() {
  auto embeddings = parameters_of({token_embedding_.get()});
  embeddings.push_back(positional_embedding_);
  if (cls_emb_.defined()) embeddings.push_back(cls_emb_);
  return transformer_depth_groups(std::move(embeddings), *transformer_, parameters_of({ln_final_.get()}));
}

torch::Tensor TextTransformerImpl::stream_in(const torch::Tensor& tokens) {
  const int64_t length = tokens.size(1);
  TORCH_CHECK(length <= options_.context_length(), "text of ", length,
              " tokens exceeds context length ", options_.context_length());
  return token_embedding_(tokens) + positional_embedding_.slice(0, 0, length);  // [B,L,D]
}

// Pooled at the end-of-text token; everything after it is padding. Searching for the id (not for
// the padding id) keeps CLIP's vocabulary working, where padding id 0 is also "!".
torch::Tensor TextTransformerImpl::eot_positions(const torch::Tensor& tokens) const {
  return tokens.eq(options_.eos_id()).to(torch::kInt).argmax(1);  // [B]
}

torch::Tensor TextTransformerImpl::pad_mask(const torch::Tensor& tokens) const {
  return torch::arange(tokens.size(1), tokens.options()).unsqueeze(0) > eot_positions(tokens).unsqueeze(1);
}

Encoded TextTransformerImpl::forward(const torch::Tensor& tokens) {
  if (options_.embed_cls()) return forward_with_cls(tokens);
  const int64_t length = tokens.size(1);
  auto x = stream_in(tokens);
  x = layer_norm_fp32(ln_final_, transformer_(x, causal_mask(length, x)));
  auto pooled = x.index({torch::arange(tokens.size(0), tokens.options()), eot_positions(tokens)});  // [B,D]
  return Encoded{x, pooled, pad_mask(tokens)};
}

Encoded TextTransformerImpl::forward_with_cls(const torch::Tensor& tokens) {
  const int64_t batch = tokens.size(0), length = tokens.size(1);
  auto text = stream_in(tokens);                                          // [B,L,D]
  auto cls = cls_emb_.to(text.dtype()) + positional_embedding_[length];  // [D] at position L
  auto x = torch::cat({text, cls.expand({batch, 1, options_.width()})}, 1);  // [B,L+1,D]
  // Key j is kept from every query when j is 0 or token j-1 is not padding.
  auto kept = torch::cat({torch::ones({batch, 1}, tokens.options().dtype(torch::kBool)), tokens.ne(options_.pad_id())}, 1);
  auto key_bias = torch::zeros({batch, 1, 1, length + 1}, x.options())
                      .masked_fill(kept.logical_not().view({batch, 1, 1, length + 1}), -INFINITY);
  x = transformer_(x, causal_mask(length + 1, x).unsqueeze(0).unsqueeze(0) + key_bias);  // [B,1,L+1,L+1] mask
  return Encoded{x.slice(1, 0, length), layer_norm_fp32(ln_final_, x.select(1, length)), pad_mask(tokens)};
}

torch::Tensor TextTransformerImpl::forward_pooled(const torch::Tensor& tokens) {
  if (options_.embed_cls()) return forward_with_cls(tokens).pooled;
  auto x = stream_in(tokens);
  const auto eot = eot_positions(tokens).to(torch::kLong);
  return layer_norm_fp32(ln_final_, transformer_->forward_rows(x, eot, causal_mask(tokens.size(1), x)));  // [B,D]
}

}  // namespace mmtrain
