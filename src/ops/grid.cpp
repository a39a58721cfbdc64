#include "mmtrain/ops/grid.h"

namespace mmtrain {

torch::Tensor grid_cells(int64_t side, const torch::TensorOptions& options) {
  TORCH_CHECK(side > 0, "grid cells: side must be positive, found ", side);
  const auto cells = torch::arange(side, options);
  return torch::stack({cells.repeat({side}), cells.repeat_interleave(side)}, 1);  // [N,2]
}

}  // namespace mmtrain
