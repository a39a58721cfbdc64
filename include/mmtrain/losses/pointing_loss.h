// The pointing loss: a head's attention logits over the vision tower's patch grid trained to fall
// on the cell of the object the text names (ModelOutput::task.target), as the action head's
// action_point and the VQA head's vqa_point terms do.
#pragma once

#include <torch/types.h>

namespace mmtrain {

// The grid cell (row-major, x fastest) of each place [B,2] (x, y in [0,1]) on a side x side grid
// -> int64 [B].
torch::Tensor pointing_cells(const torch::Tensor& target, int64_t side);
// Cross-entropy of pointing logits over a square patch grid [B,N] against the cell of each row's
// target place [B,2], averaged over the rows whose target is finite (0 when none is) -> [].
torch::Tensor pointing_loss(const torch::Tensor& logits, const torch::Tensor& target);

}  // namespace mmtrain
