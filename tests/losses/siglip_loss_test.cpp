#include "mmtrain/losses/siglip_loss.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

torch::Tensor init_log_scale() { return torch::tensor(kSiglipInitLogScale); }
torch::Tensor init_bias() { return torch::tensor(kSiglipInitBias); }

TEST(SiglipLoss, InitialConstantsAreThePapers) {
  EXPECT_NEAR(std::exp(kSiglipInitLogScale), 10.0, 1e-12);
  EXPECT_EQ(kSiglipInitBias, -10.0);
}

// Hand-computed: B=2 with orthogonal unit rows and x_i = y_i, so logits are t - 10 on the diagonal
// and -10 elsewhere at t = 10: loss = (2 log(1 + e^0) + 2 log(1 + e^-10)) / 2.
TEST(SiglipLoss, MatchesAHandComputedTwoByTwoCase) {
  auto embeds = torch::eye(2);
  const double expected = std::log(2.0) + std::log1p(std::exp(-10.0));
  EXPECT_NEAR(siglip_loss(embeds, embeds, init_log_scale(), init_bias()).item<double>(), expected, 1e-6);
}

TEST(SiglipLoss, IgnoresEmbeddingNorms) {
  torch::manual_seed(0);
  auto image = torch::randn({5, 8});
  auto text = torch::randn({5, 8});
  const double unit = siglip_loss(image, text, init_log_scale(), init_bias()).item<double>();
  const double scaled = siglip_loss(3.0f * image, 0.25f * text, init_log_scale(), init_bias()).item<double>();
  EXPECT_NEAR(scaled, unit, 1e-5 * unit);
}

TEST(SiglipLoss, WellSeparatedPairsCostAlmostNothing) {
  auto embeds = torch::eye(4);
  // Logits: +10 for matches, -10 for the rest -> each of the 16 terms is log(1 + e^-10).
  auto loss = siglip_loss(embeds, embeds, torch::tensor(std::log(20.0)), torch::tensor(-10.0));
  EXPECT_LT(loss.item<double>(), 4.0 * 4.0 * std::exp(-10.0));
}

TEST(SiglipLoss, HalfPrecisionInputsAreWidened) {
  auto embeds = torch::eye(3).to(torch::kBFloat16);
  auto loss = siglip_loss(embeds, embeds, init_log_scale(), init_bias());
  EXPECT_EQ(loss.scalar_type(), torch::kFloat);
}

TEST(SiglipLoss, RefusesMismatchedBatches) {
  EXPECT_THROW(siglip_loss(torch::ones({3, 2}), torch::ones({2, 2}), init_log_scale(), init_bias()), c10::Error);
}

}  // namespace
}  // namespace mmtrain
