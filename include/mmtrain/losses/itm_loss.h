// Image-text matching (ALBEF/BLIP style): a binary "does this caption belong to this image" head on
// the fused pairs, trained on the aligned pairs and on hard negatives mined from the contrastive
// similarities; and the `itm` loss term that does so with the fusion's match head.
#pragma once

#include <torch/types.h>

namespace mmtrain {

struct HardNegatives {
  torch::Tensor text_for_image;  // [B] long: for image i, a text index j != i
  torch::Tensor image_for_text;  // [B] long: for text j, an image index i != j
};

// similarity [B,B] (image i x text j), B >= 2. For image i a wrong text is drawn with probability
// softmax over row i with the diagonal excluded; for text j a wrong image likewise from column j.
// Sampling (rather than argmax) keeps the head from seeing the same negative every step, and
// favouring similar pairs makes the negatives hard. Draws from `generator`, else torch's default
// generator (torch::manual_seed makes it repeatable). No gradient flows through the indices.
HardNegatives mine_hard_negatives(const torch::Tensor& similarity,
                                  c10::optional<at::Generator> generator = c10::nullopt);

// positive_logits [B] (labelled 1), negative_logits [N] (labelled 0; N = 2B for one wrong text and
// one wrong image per pair) -> [] binary cross-entropy with logits, the mean over all B + N.
torch::Tensor itm_loss(const torch::Tensor& positive_logits, const torch::Tensor& negative_logits);

// Registers the `itm` term (losses/loss_term.h). It needs the fusion's match head and the token
// outputs it scores, and the whole batch on one process.
void register_itm_term();

}  // namespace mmtrain
