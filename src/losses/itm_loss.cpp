#include "mmtrain/losses/itm_loss.h"

#include <limits>

#include <torch/nn/functional/loss.h>

#include "mmtrain/losses/loss_term.h"

namespace mmtrain {

namespace {

// scores [B,B] -> [B] one column index per row, never the row's own index.
torch::Tensor draw_off_diagonal(const torch::Tensor& scores, const c10::optional<at::Generator>& generator) {
  const int64_t batch = scores.size(0);
  auto diagonal = torch::eye(batch, scores.options().dtype(torch::kBool));
  // -inf gives the matching pair exactly zero probability; softmax renormalises the rest.
  auto masked = scores.masked_fill(diagonal, -std::numeric_limits<double>::infinity());
  auto weights = torch::softmax(masked, 1);                          // [B,B], rows sum to 1
  return torch::multinomial(weights, 1, false, generator).squeeze(1);  // [B]
}

}  // namespace

HardNegatives mine_hard_negatives(const torch::Tensor& similarity, c10::optional<at::Generator> generator) {
  TORCH_CHECK(similarity.dim() == 2 && similarity.size(0) == similarity.size(1),
              "mine_hard_negatives: similarity must be [B,B], got ", similarity.sizes());
  TORCH_CHECK(similarity.size(0) >= 2, "mine_hard_negatives: needs at least 2 pairs to find a negative, got ",
              similarity.size(0));
  torch::NoGradGuard no_grad;
  // multinomial wants floating weights of at least single precision.
  auto scores = similarity.detach().to(c10::promoteTypes(similarity.scalar_type(), torch::kFloat));
  HardNegatives negatives;
  negatives.text_for_image = draw_off_diagonal(scores, generator);
  negatives.image_for_text = draw_off_diagonal(scores.t(), generator);
  return negatives;
}

torch::Tensor itm_loss(const torch::Tensor& positive_logits, const torch::Tensor& negative_logits) {
  TORCH_CHECK(positive_logits.numel() > 0 && negative_logits.numel() > 0,
              "itm_loss: needs at least one positive and one negative logit");
  const auto dtype = c10::promoteTypes(
      c10::promoteTypes(positive_logits.scalar_type(), negative_logits.scalar_type()), torch::kFloat);
  auto positive = positive_logits.reshape({-1}).to(dtype);  // [B]
  auto negative = negative_logits.reshape({-1}).to(dtype);  // [N]
  auto logits = torch::cat({positive, negative});           // [B+N]
  auto labels = torch::cat({torch::ones_like(positive), torch::zeros_like(negative)});  // [B+N]
  namespace F = torch::nn::functional;
  return F::binary_cross_entropy_with_logits(logits, labels);
}

namespace {

// Rows `index` of an encoding: the pairs a hard negative is made of.
Encoded select_rows(const Encoded& encoded, const torch::Tensor& index) {
  Encoded rows;
  rows.tokens = encoded.tokens.index_select(0, index);
  rows.pooled = encoded.pooled.index_select(0, index);
  if (encoded.pad_mask.defined()) rows.pad_mask = encoded.pad_mask.index_select(0, index);
  return rows;
}

// Every aligned pair is a positive; each image gets its hardest-looking wrong caption and each
// caption its hardest-looking wrong image, drawn from the contrastive similarities.
torch::Tensor itm_term(const LossTermInputs& in) {
  const ModelOutput& out = in.output;
  auto& fusion = in.model.fusion();
  torch::Tensor similarity;
  {
    torch::NoGradGuard no_grad;
    similarity = torch::matmul(out.image_embeds, out.text_embeds.t());  // [B,B]
  }
  const HardNegatives negatives = mine_hard_negatives(similarity);
  auto positive = fusion.match(out.image, out.text);                                            // [B]
  auto wrong_text = fusion.match(out.image, select_rows(out.text, negatives.text_for_image));   // [B]
  auto wrong_image = fusion.match(select_rows(out.image, negatives.image_for_text), out.text);  // [B]
  return itm_loss(positive, torch::cat({wrong_text, wrong_image}));
}

}  // namespace

void register_itm_term() {
  LossTermDescriptor descriptor;
  descriptor.needs.match_head = true;
  descriptor.needs.vision_tokens = true;
  descriptor.needs.text_tokens = true;
  loss_term_registry().add("itm", {descriptor, itm_term});
}

}  // namespace mmtrain
