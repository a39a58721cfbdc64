// The VQA answer losses over the vqa head's logits and the batch's soft answer scores
// (ModelOutput::task.answers), and the `vqa` and `vqa_ce` loss terms built on them.
#pragma once

#include <torch/types.h>

namespace mmtrain {

// VQA v2's soft-score objective (as in ViLT and the bottom-up attention models): binary
// cross-entropy of every answer's logit against its score, summed over the answers and averaged
// over the rows. logits [B,A] (A >= K: outputs beyond the vocabulary are trained towards 0),
// targets [B,K] in [0,1] -> [].
torch::Tensor vqa_bce_loss(const torch::Tensor& logits, const torch::Tensor& targets);
// Plain cross-entropy for one-answer data: the targets normalised to a distribution over the
// answers (a single answer: its one-hot), rows without a scored answer contributing 0 -> [].
torch::Tensor vqa_ce_loss(const torch::Tensor& logits, const torch::Tensor& targets);

// Registers `vqa` (vqa_bce_loss), `vqa_ce` (vqa_ce_loss) and `vqa_point` (losses/pointing_loss.h:
// the words' attention of a model.head.point words head against each row's "target" cell): read
// the vqa head, means over rows.
void register_vqa_terms();

}  // namespace mmtrain
