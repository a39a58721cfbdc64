// CoCa's captioning loss: token cross-entropy of the decoder's next-token logits against the
// caption itself, padding ignored; and the `caption` loss term built on it.
#pragma once

#include <torch/types.h>

namespace mmtrain {

// logits [B,L,V] (position t predicts token t+1), token_ids [B,L] int64, pad_mask [B,L] bool (true
// at padding, which follows end-of-text) -> [] mean over every predicted non-padding token; the
// end-of-text token is a target, so the decoder learns where a caption stops. label_smoothing in
// [0,1) spreads that much of each target's mass evenly over the vocabulary.
torch::Tensor caption_loss(const torch::Tensor& logits, const torch::Tensor& token_ids, const torch::Tensor& pad_mask,
                           double label_smoothing = 0.0);

// Registers the `caption` term (losses/loss_term.h): reads the caption decoder (model.head.type
// caption), a mean over the rows of this process.
void register_caption_term();

}  // namespace mmtrain
