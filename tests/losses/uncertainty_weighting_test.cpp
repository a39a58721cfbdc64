#include "mmtrain/losses/uncertainty_weighting.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

TEST(UncertaintyWeighting, ZeroLogVariancesGiveThePlainSum) {
  auto total = uncertainty_weighted_sum({torch::tensor(1.5f), torch::tensor(0.25f)}, torch::zeros({2}));
  EXPECT_NEAR(total.item<double>(), 1.75, 1e-6);
}

// d/ds_k [exp(-s_k) L_k + s_k] = 1 - exp(-s_k) L_k vanishes at s_k = log L_k: each weight settles
// at 1 / L_k, which is what balances the terms.
TEST(UncertaintyWeighting, LogVarianceGradientVanishesAtTheLogOfEachLoss) {
  auto log_vars = torch::tensor({std::log(2.0f), std::log(0.5f)}).requires_grad_(true);
  uncertainty_weighted_sum({torch::tensor(2.0f), torch::tensor(0.5f)}, log_vars).backward();
  EXPECT_LT(log_vars.grad().abs().max().item<double>(), 1e-6);
}

TEST(UncertaintyWeighting, RefusesALogVarianceCountThatDiffersFromTheTerms) {
  EXPECT_THROW(uncertainty_weighted_sum({torch::tensor(1.0f)}, torch::zeros({2})), c10::Error);
  EXPECT_THROW(uncertainty_weighted_sum({}, torch::zeros({0})), c10::Error);
}

}  // namespace
}  // namespace mmtrain
