#include "mmtrain/losses/uncertainty_weighting.h"

namespace mmtrain {

namespace {

// Terms may come in different dtypes; stack needs one, and the weights need at least float32.
torch::ScalarType common_dtype(const std::vector<torch::Tensor>& losses, const torch::Tensor& log_vars) {
  auto dtype = c10::promoteTypes(log_vars.scalar_type(), torch::kFloat);
  for (const auto& loss : losses) dtype = c10::promoteTypes(dtype, loss.scalar_type());
  return dtype;
}

}  // namespace

torch::Tensor uncertainty_weighted_sum(const std::vector<torch::Tensor>& losses, const torch::Tensor& log_vars) {
  TORCH_CHECK(!losses.empty(), "uncertainty_weighted_sum: no loss terms");
  TORCH_CHECK(log_vars.dim() == 1 && log_vars.size(0) == static_cast<int64_t>(losses.size()),
              "uncertainty_weighted_sum: log_vars must be [", losses.size(), "], got ", log_vars.sizes());
  const auto dtype = common_dtype(losses, log_vars);
  std::vector<torch::Tensor> terms;
  terms.reserve(losses.size());
  for (const auto& loss : losses) {
    TORCH_CHECK(loss.numel() == 1, "uncertainty_weighted_sum: each loss term must be a scalar, got ", loss.sizes());
    terms.push_back(loss.reshape({}).to(dtype));
  }
  auto term_values = torch::stack(terms);  // [K]
  auto s = log_vars.to(dtype);             // [K]
  return (torch::exp(-s) * term_values + s).sum();
}

}  // namespace mmtrain
