// CLIP's symmetric InfoNCE: cross-entropy over images against all texts and over texts against
// all images, with the matching pair at column offset + row; and the `clip` loss term built on it.
#pragma once

#include <torch/types.h>

namespace mmtrain {

// logits_per_image [b,B] (local images x all texts), logits_per_text [b,B] (local texts x all
// images) -> scalar. On one process b = B, offset 0 and logits_per_text = logits_per_image.t();
// a rank holding rows offset..offset+b of a gathered global batch passes its offset.
torch::Tensor clip_loss(const torch::Tensor& logits_per_image, const torch::Tensor& logits_per_text,
                        int64_t offset = 0);

// Registers the `clip` term (losses/loss_term.h): the scaled similarities of the embeddings alone,
// this rank's rows against every rank's columns on several processes.
void register_clip_term();

}  // namespace mmtrain
