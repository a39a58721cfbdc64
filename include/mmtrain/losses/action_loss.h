// The action losses over the action head's predictions and the batch's next actions
// (ModelOutput::task.actions, scaled to [-1,1]), and the `action_l1`, `action_ce` and
// `action_point` (losses/pointing_loss.h over the named object's place, task.target) loss terms.
#pragma once

#include <torch/types.h>

namespace mmtrain {

// Mean absolute error of continuous predictions [B,T,A] against targets [B,T,A] -> [].
torch::Tensor action_l1_loss(const torch::Tensor& predicted, const torch::Tensor& targets);
// Token cross-entropy of bin logits [B,T,A,N] against the bins of targets [B,T,A] (each scaled
// value's bin among N equal bins over [-1,1]), averaged over every (row, step, dimension) -> [].
torch::Tensor action_ce_loss(const torch::Tensor& logits, const torch::Tensor& targets);
// The bins of scaled targets [B,T,A] among `bins` -> int64 [B,T,A] (ActionSpace::bin_of).
torch::Tensor action_bins(const torch::Tensor& targets, int64_t bins);

// Registers `action_l1` (continuous head, model.head.bins 0), `action_ce` (discrete head) and
// `action_point` (either head: its first query points at the object the instruction names).
void register_action_terms();

}  // namespace mmtrain
