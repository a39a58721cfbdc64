#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/models/bow_text.h"
#include "mmtrain/models/convnet.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/models/resnet.h"
#include "mmtrain/models/zoo_towers.h"

namespace mmtrain {
namespace {

constexpr int kEos = 3;  // int like the other literals: torch::tensor wants one scalar type

using Shape = std::vector<int64_t>;

// Two blocks in a stage, so that the identity shortcut is exercised as well as the downsampling
// one.
ResNet small_resnet() {
  return ResNet(ResNetOptions(64).width(8).stage_layers({1, 2, 1, 1}).heads(4).output_dim(40));
}
ConvNet small_convnet() { return ConvNet(ConvNetOptions(16).width(8).layers(3)); }
BowText small_bow() { return BowText(BowTextOptions(50, kEos).width(16)); }

torch::Tensor some_tokens() {
  return torch::tensor({{2, 7, 8, kEos, 0, 0}, {2, 9, kEos, 0, 0, 0}}, torch::kLong);
}

// A parameter without a gradient would silently never train.
void expect_every_parameter_gets_a_gradient(torch::nn::Module& tower, const Encoded& out) {
  out.pooled.sum().backward();
  for (const auto& item : tower.named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
  }
}

TEST(ResNet, ReturnsPerPositionTokensAndTheAttentionPooledVectorOfOneWidth) {
  auto tower = small_resnet();
  auto out = tower->forward(torch::randn({2, 3, 64, 64}));
  EXPECT_EQ(out.tokens.sizes(), (Shape{2, 2 * 2, 40}));  // 64/32 a side, projected to output_dim
  EXPECT_EQ(out.pooled.sizes(), (Shape{2, 40}));
  EXPECT_EQ(tower->width(), 40);
}

TEST(ResNet, EveryParameterReceivesAGradient) {
  auto tower = small_resnet();
  tower->train();
  expect_every_parameter_gets_a_gradient(*tower, tower->forward(torch::randn({2, 3, 64, 64})));
}

TEST(ResNet, RejectsAnImageSizeNotDivisibleBy32) {
  try {
    ResNet(ResNetOptions(48).width(8).stage_layers({1, 1, 1, 1}).heads(4).output_dim(40));
    FAIL() << "expected an error";
  } catch (const c10::Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("image size 48 must be a positive multiple of 32"), std::string::npos)
        << error.what();
  }
}

TEST(ResNet, NamesFollowClipsLayout) {
  auto params = small_resnet()->named_parameters();
  for (const char* name : {"conv1.weight", "bn3.bias", "layer1.0.conv3.weight",
                           "layer2.1.bn2.weight", "layer2.0.downsample.0.weight",
                           "layer4.0.downsample.1.weight",
                           "attnpool.positional_embedding", "attnpool.c_proj.weight"}) {
    EXPECT_NE(params.find(name), nullptr) << name;
  }
}

TEST(ConvNet, ReturnsProjectedFeatureMapTokensAndTheirMean) {
  auto tower = small_convnet();
  auto out = tower->forward(torch::randn({2, 3, 16, 16}));
  EXPECT_EQ(out.tokens.sizes(), (Shape{2, 4 * 4, 8}));  // two stride-2 stages: 16 -> 4 a side
  EXPECT_EQ(out.pooled.sizes(), (Shape{2, 8}));
  EXPECT_TRUE(torch::allclose(out.pooled, out.tokens.mean(1)));
  EXPECT_EQ(tower->width(), 8);
}

TEST(ConvNet, EveryParameterReceivesAGradient) {
  auto tower = small_convnet();
  tower->train();
  expect_every_parameter_gets_a_gradient(*tower, tower->forward(torch::randn({2, 3, 16, 16})));
}

TEST(BowText, ReturnsEmbeddingsPooledVectorAndPaddingAfterEndOfText) {
  auto tower = small_bow();
  auto out = tower->forward(some_tokens());
  EXPECT_EQ(out.tokens.sizes(), (Shape{2, 6, 16}));
  EXPECT_EQ(out.pooled.sizes(), (Shape{2, 16}));
  auto expected_mask = torch::tensor({{0, 0, 0, 0, 1, 1}, {0, 0, 0, 1, 1, 1}}).to(torch::kBool);
  EXPECT_TRUE(torch::equal(out.pad_mask, expected_mask));
}

TEST(BowText, PoolsOnlyUpToTheEndOfTextToken) {
  auto tower = small_bow();
  auto tokens = some_tokens();
  auto after_eos = tokens.clone();
  after_eos[0][4] = 11;
  auto before_eos = tokens.clone();
  before_eos[0][1] = 11;
  auto pooled = tower->forward(tokens).pooled;
  EXPECT_TRUE(torch::equal(tower->forward(after_eos).pooled, pooled));
  EXPECT_FALSE(torch::allclose(tower->forward(before_eos).pooled[0], pooled[0]));
}

// As for the text transformer: vocab_size and eos_id passed the wrong way round are refused.
TEST(BowText, RefusesAnEndOfTextIdOutsideTheVocabulary) {
  try {
    BowText(BowTextOptions(kEos, 50).width(16));
    FAIL() << "expected an error";
  } catch (const c10::Error& error) {
    EXPECT_NE(std::string(error.what()).find("eos_id 50 is not an id of the 3-token vocabulary"), std::string::npos)
        << error.what();
  }
}

TEST(BowText, EveryParameterReceivesAGradient) {
  auto tower = small_bow();
  expect_every_parameter_gets_a_gradient(*tower, tower->forward(some_tokens()));
}

TEST(ZooTowers, AreBuiltByNameFromTheConfig) {
  register_zoo_towers();
  VisionConfig resnet;
  resnet.type = "resnet";
  resnet.image_size = 32;
  resnet.width = 8;
  resnet.heads = 4;
  resnet.stage_layers = {1, 1, 1, 1};
  EXPECT_EQ(build_vision_tower(resnet)->width(), 8 * 16);  // CLIP's RN50 ratio: 1024 / 64
  VisionConfig convnet;
  convnet.type = "convnet";
  convnet.image_size = 16;
  convnet.width = 8;
  convnet.layers = 2;
  EXPECT_EQ(build_vision_tower(convnet)->width(), 8);
  TextConfig bow;
  bow.type = "bow";
  bow.width = 16;
  EXPECT_EQ(build_text_tower(bow, TextVocab{50, kEos})->width(), 16);
}

TEST(ZooTowers, MakeAModelWithLateFusion) {
  register_zoo_towers();
  ModelConfig config;
  config.embed_dim = 12;
  config.vision.type = "resnet";
  config.vision.image_size = 32;
  config.vision.width = 8;
  config.vision.heads = 4;
  config.vision.stage_layers = {1, 1, 1, 1};
  config.text.type = "bow";
  config.text.width = 16;
  auto model = build_model(config, TextVocab{50, kEos});
  auto out = model->forward(torch::randn({2, 3, 32, 32}), some_tokens());
  EXPECT_EQ(out.image_embeds.sizes(), (Shape{2, 12}));
  EXPECT_EQ(out.text_embeds.sizes(), (Shape{2, 12}));
}

}  // namespace
}  // namespace mmtrain
