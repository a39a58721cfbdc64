#include "mmtrain/losses/clip_loss.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

// Hand-computed: logits [[2,0],[1,3]]. Rows (images -> texts): both rows' positives lead by 2,
// so each costs log(1+e^-2). Columns (texts -> images): column 0 is [2,1] (lead 1), column 1
// is [0,3] (lead 3). Tolerance 1e-6 (float32 arithmetic).
TEST(ClipLoss, MatchesAHandComputedTwoByTwoCase) {
  auto logits = torch::tensor({{2.0f, 0.0f}, {1.0f, 3.0f}});
  const double image_loss = std::log1p(std::exp(-2.0));
  const double text_loss = 0.5 * (std::log1p(std::exp(-1.0)) + std::log1p(std::exp(-3.0)));
  const double expected = 0.5 * (image_loss + text_loss);
  EXPECT_NEAR(clip_loss(logits, logits.t()).item<double>(), expected, 1e-6);
}

TEST(ClipLoss, GradientPushesPositivesUpAndNegativesDown) {
  auto logits = torch::tensor({{2.0f, 0.0f}, {1.0f, 3.0f}}).requires_grad_(true);
  clip_loss(logits, logits.t()).backward();
  auto grad = logits.grad();
  // d/dlogit of the mean cross-entropies: softmax - onehot, averaged over both directions.
  auto row = torch::softmax(logits.detach(), 1) - torch::eye(2);
  auto col = torch::softmax(logits.detach(), 0) - torch::eye(2);
  auto expected = 0.5 * (row + col) / 2.0;
  EXPECT_TRUE(torch::allclose(grad, expected, 1e-6, 1e-6));
  EXPECT_LT(grad[0][0].item<float>(), 0.0f);
  EXPECT_GT(grad[0][1].item<float>(), 0.0f);
}

TEST(ClipLoss, PerfectlySeparatedPairsCostAlmostNothing) {
  auto logits = 100.0f * torch::eye(4);
  EXPECT_LT(clip_loss(logits, logits.t()).item<double>(), 1e-6);
}

TEST(ClipLoss, LocalRowsWithOffsetEqualTheirShareOfTheGlobalLoss) {
  torch::manual_seed(0);
  auto global = torch::randn({4, 4});
  const double full = clip_loss(global, global.t()).item<double>();
  // Each half of the rows, scored against all columns, averages to the global loss.
  const double top = clip_loss(global.slice(0, 0, 2), global.t().slice(0, 0, 2), 0).item<double>();
  const double bottom = clip_loss(global.slice(0, 2, 4), global.t().slice(0, 2, 4), 2).item<double>();
  EXPECT_NEAR(0.5 * (top + bottom), full, 1e-6);
}

}  // namespace
}  // namespace mmtrain
