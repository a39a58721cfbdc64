#include "mmtrain/models/bow_text.h"

#include "mmtrain/ops/linear.h"

namespace mmtrain {

BowTextImpl::BowTextImpl(const BowTextOptions& options) : options_(options) {
  TORCH_CHECK(options.width() > 0, "bow: width must be positive, found ", options.width());
  // Also what catches vocab_size and eos_id passed the wrong way round.
  TORCH_CHECK(options.eos_id() >= 0 && options.eos_id() < options.vocab_size(), "bow: eos_id ", options.eos_id(),
              " is not an id of the ", options.vocab_size(), "-token vocabulary");
  token_embedding_ = register_module(
      "token_embedding", torch::nn::Embedding(options.vocab_size(), options.width()));
  fc1_ = register_module("fc1", torch::nn::Linear(options.width(), options.width()));
  fc2_ = register_module("fc2", torch::nn::Linear(options.width(), options.width()));
  torch::NoGradGuard no_grad;
  token_embedding_->weight.normal_(0.0, 0.02);  // as the text transformer's
}

Encoded BowTextImpl::forward(const torch::Tensor& tokens) {
  const int64_t length = tokens.size(1);
  auto x = token_embedding_(tokens);  // [B,L,D]
  // Searching for the end-of-text id (not for the padding id) keeps CLIP's vocabulary working,
  // where padding id 0 is also "!". A text without one finds position 0, as in the text
  // transformer.
  auto eot = tokens.eq(options_.eos_id()).to(torch::kInt).argmax(1);  // [B]
  auto pad_mask = torch::arange(length, tokens.options()).unsqueeze(0) > eot.unsqueeze(1);  // [B,L]
  auto keep = pad_mask.logical_not().unsqueeze(2).to(x.dtype());  // [B,L,1]
  auto mean = (x * keep).sum(1) / keep.sum(1);                    // [B,D]
  auto pooled = linear(fc2_, torch::gelu(linear(fc1_, mean)));
  return Encoded{x, pooled, pad_mask};
}

}  // namespace mmtrain
