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

// Word dropout: while training, that fraction of the caption's words (between start- and
// end-of-text) become start-of-text in what the decoder reads, through the text tower again; the
// targets and the contrastive path keep the caption as it is.
torch::Tensor decoder_text_tokens(const LossTermInputs& in) {
  const double p = in.config.caption_input_dropout;
  if (p <= 0 || !in.model.is_training()) return in.output.text.tokens;
  const auto& ids = in.output.token_ids;  // [B,L]
  const auto& padding = in.output.text.pad_mask;  // [B,L] after end-of-text
  auto dropped = torch::rand(ids.sizes()).lt(p).to(ids.device()).logical_and(padding.logical_not());
  dropped.select(1, 0).fill_(false);
  const auto end_of_text = padding.logical_not().sum(1, /*keepdim=*/true) - 1;  // [B,1]
  dropped.scatter_(1, end_of_text, false);  // the pooled token and padding stay as they are
  const auto start = ids.select(1, 0).unsqueeze(1).expand_as(ids);
  return in.model.text().forward(torch::where(dropped, start, ids)).tokens;
}

torch::Tensor caption_term(const LossTermInputs& in) {
  auto& decoder = caption_decoder_of(in.model, "loss.terms.caption");
  const auto logits = decoder.logits(in.output.image.tokens, decoder_text_tokens(in));  // [B,L,V]
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
