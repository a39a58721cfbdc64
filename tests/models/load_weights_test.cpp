// load_weights on models with buffers: BatchNorm's running statistics travel with the weights.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/config/config.h"
#include "mmtrain/models/open_clip.h"
#include "mmtrain/models/registry.h"

namespace mmtrain {
namespace {

ModelConfig convnet_config() {
  ModelConfig config;
  config.embed_dim = 8;
  config.vision.type = "convnet";
  config.vision.image_size = 16;
  config.vision.width = 8;
  config.vision.layers = 2;
  config.text = TextConfig{"transformer", 8, 16, 1, 2, 4.0, "gelu"};
  return config;
}

// Every parameter and buffer of a model, as an mmtrain checkpoint stores them.
TensorMap state_of(MultimodalModelImpl& model) {
  TensorMap state;
  for (const auto& item : model.named_parameters()) state.emplace(item.key(), item.value().detach().clone());
  for (const auto& item : model.named_buffers()) state.emplace(item.key(), item.value().detach().clone());
  return state;
}

TEST(LoadWeights, AConvnetCheckpointStartsAConvnetWithItsRunningStatistics) {
  torch::manual_seed(1);
  auto trained = build_model(convnet_config(), TextVocab{20, 19});
  trained->train();
  // Forward passes in training mode move the running statistics away from their initial 0 and 1.
  for (int i = 0; i < 3; ++i) trained->vision().forward(torch::randn({4, 3, 16, 16}) * 2 + 1);
  const TensorMap weights = state_of(*trained);
  ASSERT_TRUE(weights.count("vision.features.1.running_mean"));

  torch::manual_seed(2);
  auto started = build_model(convnet_config(), TextVocab{20, 19});
  const auto report = load_weights(*started, weights, /*strict=*/true, "trained.pt");
  EXPECT_TRUE(report.unexpected.empty());
  EXPECT_TRUE(report.missing.empty());
  for (const auto& item : started->named_buffers()) {
    EXPECT_TRUE(torch::equal(item.value(), weights.at(item.key()))) << item.key();
  }
  trained->eval();
  started->eval();
  const auto images = torch::randn({2, 3, 16, 16});
  EXPECT_TRUE(torch::equal(trained->vision().forward(images).pooled, started->vision().forward(images).pooled));
}

TEST(LoadWeights, WeightsWithoutBuffersStillLoadStrictly) {
  auto source = build_model(convnet_config(), TextVocab{20, 19});
  TensorMap weights;
  for (const auto& item : source->named_parameters()) weights.emplace(item.key(), item.value().detach().clone());
  auto target = build_model(convnet_config(), TextVocab{20, 19});
  EXPECT_NO_THROW(load_weights(*target, weights, /*strict=*/true, "parameters_only.pt"));
}

}  // namespace
}  // namespace mmtrain
