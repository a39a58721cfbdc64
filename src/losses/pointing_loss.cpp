#include "mmtrain/losses/pointing_loss.h"

#include <cmath>

#include <torch/nn/functional/loss.h>

namespace mmtrain {

torch::Tensor pointing_cells(const torch::Tensor& target, int64_t side) {
  const auto cell = (target.to(torch::kFloat) * static_cast<double>(side))
                        .floor()
                        .clamp(0, static_cast<double>(side - 1))
                        .to(torch::kLong);                                   // [B,2] column, row
  return cell.select(1, 1) * side + cell.select(1, 0);                      // [B]
}

torch::Tensor pointing_loss(const torch::Tensor& logits, const torch::Tensor& target) {
  TORCH_CHECK(logits.dim() == 2 && target.dim() == 2 && target.size(1) == 2 && logits.size(0) == target.size(0),
              "pointing loss: logits ", logits.sizes(), " against targets ", target.sizes());
  const auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(logits.size(1)))));
  TORCH_CHECK(side * side == logits.size(1), "pointing loss: ", logits.size(1), " patches are not a square grid");
  const auto known = target.isfinite().all(1);                              // [B]
  // Rows without a target contribute nothing; their cell is any valid index.
  const auto cells = pointing_cells(torch::where(known.unsqueeze(1), target, torch::zeros_like(target)), side);
  const auto per_row = torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat), cells, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  const auto weight = known.to(torch::kFloat);
  return (per_row * weight).sum() / weight.sum().clamp_min(1.0);
}

}  // namespace mmtrain
