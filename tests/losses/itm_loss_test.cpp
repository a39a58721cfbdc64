#include "mmtrain/losses/itm_loss.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

constexpr int64_t kDraws = 200;

// Row i's similarity peaks at text (i + 1) % B, so column j's peaks at image (j - 1) % B. The
// diagonal is larger still, as it is for a trained model, to show the mask (not the scores) keeps
// the positives out. Each row's peak holds e^10 / (e^10 + B - 2) > 99.9% of the masked mass.
torch::Tensor shifted_peak_similarity(int64_t batch) {
  auto similarity = torch::zeros({batch, batch});
  for (int64_t i = 0; i < batch; ++i) {
    similarity[i][(i + 1) % batch] = 10.0f;
    similarity[i][i] = 20.0f;
  }
  return similarity;
}

TEST(MineHardNegatives, NeverPicksTheMatchingPair) {
  torch::manual_seed(7);
  const int64_t batch = 6;
  auto diagonal = torch::arange(batch);
  for (int64_t draw = 0; draw < kDraws; ++draw) {
    // Scaled like CLIP logits so that some rows are nearly one-hot.
    auto similarity = 10.0f * torch::randn({batch, batch});
    const HardNegatives negatives = mine_hard_negatives(similarity);
    ASSERT_EQ(negatives.text_for_image.sizes(), torch::IntArrayRef({batch}));
    ASSERT_EQ(negatives.image_for_text.sizes(), torch::IntArrayRef({batch}));
    EXPECT_EQ(negatives.text_for_image.scalar_type(), torch::kLong);
    EXPECT_FALSE(negatives.text_for_image.eq(diagonal).any().item<bool>()) << negatives.text_for_image;
    EXPECT_FALSE(negatives.image_for_text.eq(diagonal).any().item<bool>()) << negatives.image_for_text;
  }
}

TEST(MineHardNegatives, FavoursTheMostSimilarWrongPairInBothDirections) {
  torch::manual_seed(11);
  const int64_t batch = 5;
  auto similarity = shifted_peak_similarity(batch);
  auto next = (torch::arange(batch) + 1) % batch;              // expected text for image i
  auto previous = (torch::arange(batch) + batch - 1) % batch;  // expected image for text j
  int64_t text_hits = 0;
  int64_t image_hits = 0;
  for (int64_t draw = 0; draw < kDraws; ++draw) {
    const HardNegatives negatives = mine_hard_negatives(similarity);
    text_hits += negatives.text_for_image.eq(next).sum().item<int64_t>();
    image_hits += negatives.image_for_text.eq(previous).sum().item<int64_t>();
  }
  const double picks = static_cast<double>(kDraws * batch);
  EXPECT_GE(text_hits / picks, 0.95);
  EXPECT_GE(image_hits / picks, 0.95);
}

TEST(MineHardNegatives, AGeneratorMakesTheDrawsRepeatable) {
  auto similarity = torch::randn({8, 8});
  auto first = mine_hard_negatives(similarity, at::detail::createCPUGenerator(3));
  auto second = mine_hard_negatives(similarity, at::detail::createCPUGenerator(3));
  EXPECT_TRUE(first.text_for_image.equal(second.text_for_image));
  EXPECT_TRUE(first.image_for_text.equal(second.image_for_text));
}

TEST(MineHardNegatives, CarriesNoGradient) {
  auto similarity = torch::randn({4, 4}).requires_grad_(true);
  const HardNegatives negatives = mine_hard_negatives(similarity);
  EXPECT_FALSE(negatives.text_for_image.requires_grad());
  EXPECT_FALSE(negatives.image_for_text.requires_grad());
}

TEST(MineHardNegatives, RefusesASinglePairOrANonSquareMatrix) {
  EXPECT_THROW(mine_hard_negatives(torch::ones({1, 1})), c10::Error);
  EXPECT_THROW(mine_hard_negatives(torch::ones({2, 3})), c10::Error);
}

TEST(ItmLoss, IsLowWhenPositivesScoreHighAndNegativesLow) {
  auto positive = torch::full({4}, 8.0f);
  auto negative = torch::full({8}, -8.0f);
  // Every term is log(1 + e^-8) ~ 3.4e-4.
  EXPECT_LT(itm_loss(positive, negative).item<double>(), 1e-3);
  EXPECT_GT(itm_loss(-positive, -negative).item<double>(), 7.0);
}

// Hand-computed: all logits 0 -> every term is log 2, whatever the labels.
TEST(ItmLoss, IsLogTwoForUndecidedLogits) {
  EXPECT_NEAR(itm_loss(torch::zeros({3}), torch::zeros({6})).item<double>(), std::log(2.0), 1e-6);
}

// The mean runs over all 3B logits, so one negative weighs as much as one positive.
TEST(ItmLoss, AveragesOverPositivesAndNegativesTogether) {
  auto positive = torch::tensor({2.0f});
  auto negative = torch::tensor({0.0f, 0.0f});
  const double expected = (std::log1p(std::exp(-2.0)) + 2.0 * std::log(2.0)) / 3.0;
  EXPECT_NEAR(itm_loss(positive, negative).item<double>(), expected, 1e-6);
}

}  // namespace
}  // namespace mmtrain
