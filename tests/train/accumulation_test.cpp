#include "mmtrain/train/accumulation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/models/registry.h"

namespace mmtrain {
namespace {

MultimodalModel seeded_model() {
  torch::manual_seed(3);
  ModelConfig config;
  config.embed_dim = 16;
  config.vision = VisionConfig{"vit", 16, 8, 32, 2, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 8, 32, 2, 2, 4.0, "gelu"};
  return build_model(config, TextVocab{20, 3});
}

// Random captions of varying length, each ending with the end-of-text id 3.
torch::Tensor random_tokens(int64_t batch) {
  auto tokens = torch::randint(4, 20, {batch, 8}, torch::kLong);
  auto lengths = torch::randint(2, 8, {batch}, torch::kLong);
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t end = lengths[i].item<int64_t>();
    tokens[i][end] = 3;
    tokens[i].slice(0, end + 1).zero_();
  }
  return tokens;
}

// Tolerance: 1e-4 of each gradient's largest entry (float32 sums taken in another order).
TEST(Accumulation, FourMicroBatchesOf16GiveTheGradientsOfOneBatchOf64) {
  torch::manual_seed(11);
  const auto images = torch::randn({64, 3, 16, 16});
  const auto tokens = random_tokens(64);
  LossConfig loss;

  auto whole = seeded_model();
  const auto whole_loss = forward_backward(*whole, loss, images, tokens, "fp32").total.item<double>();
  auto accumulated = seeded_model();
  const auto accumulated_loss =
      accumulate_gradients(*accumulated, loss, images, tokens, 4, "fp32").total.item<double>();

  EXPECT_NEAR(accumulated_loss, whole_loss, 1e-5 * whole_loss);
  auto expected = whole->named_parameters();
  int compared = 0;
  for (const auto& item : accumulated->named_parameters()) {
    const auto& reference = expected[item.key()].grad();
    const double scale = reference.abs().max().item<double>();
    EXPECT_LE((item.value().grad() - reference).abs().max().item<double>(), 1e-4 * scale) << item.key();
    ++compared;
  }
  EXPECT_GT(compared, 20);
}

}  // namespace
}  // namespace mmtrain
