// The cells of a square feature map in the order its tokens come: a [B,C,H,W] map flattened to
// [B,H*W,C] is row-major, the column varying fastest. Whatever gives tokens a place (a position
// code, a spatial soft-argmax) takes the cells from here, so the two cannot disagree.
#pragma once

#include <torch/types.h>

namespace mmtrain {

// [side*side, 2]: (column, row) of each cell as floats 0..side-1, row-major.
torch::Tensor grid_cells(int64_t side, const torch::TensorOptions& options = torch::kFloat);

}  // namespace mmtrain
