#include "mmtrain/losses/caption_loss.h"

#include <torch/nn/functional/loss.h>

#include "mmtrain/heads/caption_decoder.h"
#include "mmtrain/losses/loss_term.h"

namespace mmtrain {

namespace {
constexpr int64_t kIgnored = -100;
}  // namespace

torch::Tensor caption_loss(const torch::Tensor& logits, const torch::Tensor& token_ids, const torch::Tensor& pad_mask,
                           double label_smoothing) {
  TORCH_CHECK(logits.dim() == 3 && token_ids.dim() == 2 && logits.size(0) == token_ids.size(0) &&
                  logits.size(1) == token_ids.size(1),
              "caption_loss: logits ", logits.sizes(), " do not match token ids ", token_ids.sizes());
  TORCH_CHECK(pad_mask.defined(), "caption_loss: the text tower gave no padding mask");
  TORCH_CHECK(token_ids.size(1) >= 2, "caption_loss: needs at least two tokens, got ", token_ids.size(1));
  const int64_t length = token_ids.size(1), vocab = logits.size(2);
  auto targets = token_ids.slice(1, 1).masked_fill(pad_mask.slice(1, 1), kIgnored);  // [B,L-1]
  auto predictions = logits.slice(1, 0, length - 1).reshape({-1, vocab}).to(torch::kFloat);  // [B(L-1),V]
  namespace F = torch::nn::functional;
  return F::cross_entropy(predictions, targets.reshape({-1}),
                          F::CrossEntropyFuncOptions().ignore_index(kIgnored).label_smoothing(label_smoothing));
}

namespace {

torch::Tensor caption_term(const LossTermInputs& in) {
  auto& decoder = caption_decoder_of(in.model, "loss.terms.caption");
  const auto logits = decoder.forward(in.output);  // [B,L,V]
  return caption_loss(logits, in.output.token_ids, in.output.text.pad_mask, in.config.label_smoothing);
}

}  // namespace

void register_caption_term() {
  LossTermDescriptor descriptor;
  descriptor.head = "caption";
  descriptor.mean_over_rows = true;
  descriptor.runs_on_several_processes = true;
  loss_term_registry().add("caption", {descriptor, caption_term});
}

}  // namespace mmtrain
