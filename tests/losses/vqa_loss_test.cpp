// The VQA answer losses against the formulas written out element by element in double precision.
#include "mmtrain/losses/vqa_loss.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

double softplus(double x) { return std::log1p(std::exp(-std::abs(x))) + std::max(x, 0.0); }

TEST(VqaLoss, BinaryCrossEntropySumsOverAnswersAveragesOverRowsAndTrainsOutputsBeyondTheVocabularyToZero) {
  torch::manual_seed(1);
  const auto logits = torch::randn({3, 5}, torch::kDouble);
  const auto targets = torch::tensor({{1.0, 0.0, 0.0, 2.0 / 3}, {0.0, 0.0, 0.0, 0.0}, {1.0 / 3, 1.0, 0.0, 0.0}}, torch::kDouble);
  double expected = 0;
  for (int64_t b = 0; b < 3; ++b) {
    for (int64_t a = 0; a < 5; ++a) {
      const double x = logits[b][a].item<double>();
      const double t = a < 4 ? targets[b][a].item<double>() : 0.0;  // the fifth output is outside the vocabulary
      expected += t * softplus(-x) + (1 - t) * softplus(x);  // -t log s(x) - (1-t) log(1-s(x))
    }
  }
  EXPECT_NEAR(vqa_bce_loss(logits, targets).item<double>(), expected / 3, 1e-12);
}

TEST(VqaLoss, CrossEntropyOfOneAnswerDataIsPlainCrossEntropyAndIgnoresRowsWithoutAnAnswer) {
  torch::manual_seed(2);
  const auto logits = torch::randn({3, 4}, torch::kDouble);
  const auto one_hot = torch::tensor({{0.0, 1.0, 0.0}, {1.0, 0.0, 0.0}, {0.0, 0.0, 0.0}}, torch::kDouble);
  double expected = 0;
  for (int64_t b = 0; b < 2; ++b) {
    const int64_t answer = b == 0 ? 1 : 0;
    double sum = 0;
    for (int64_t a = 0; a < 4; ++a) sum += std::exp(logits[b][a].item<double>());
    expected += std::log(sum) - logits[b][answer].item<double>();
  }
  EXPECT_NEAR(vqa_ce_loss(logits, one_hot).item<double>(), expected / 3, 1e-12);
  // Soft scores become a distribution: 2/3 and 1/3 of the mass.
  const auto soft = torch::tensor({{1.0, 0.5, 0.0}}, torch::kDouble);
  const auto row = logits.narrow(0, 0, 1);
  const auto log_p = torch::log_softmax(row, 1);
  EXPECT_NEAR(vqa_ce_loss(row, soft).item<double>(), -(2.0 / 3 * log_p[0][0] + 1.0 / 3 * log_p[0][1]).item<double>(), 1e-12);
}

TEST(VqaLoss, TargetsWiderThanTheLogitsAreRefused) {
  EXPECT_THROW(vqa_bce_loss(torch::zeros({2, 3}), torch::zeros({2, 4})), c10::Error);
}

}  // namespace
}  // namespace mmtrain
