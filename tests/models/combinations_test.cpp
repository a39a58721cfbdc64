// Every vision tower x text tower x fusion trains: a few AdamW steps on the clip loss (plus
// image-text matching for fused types), with a gradient reaching every parameter.
#include <tuple>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/losses/loss.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/train/optimizer.h"

namespace mmtrain {
namespace {

using Combination = std::tuple<std::string, std::string, std::string>;  // vision, text, fusion

class Combinations : public ::testing::TestWithParam<Combination> {};

ModelConfig small_config(const Combination& combination) {
  ModelConfig config;
  config.embed_dim = 16;
  // 64 px: the resnet then has a 2x2 feature map; with one image token, cross-attention
  // (a softmax over one key) would rightly give its query projection no gradient.
  config.vision = VisionConfig{std::get<0>(combination), 64, 16, 16, 2, 2, 4.0, "gelu", "cls"};
  config.vision.stage_layers = {1, 1, 1, 1};
  config.text = TextConfig{std::get<1>(combination), 6, 16, 1, 2, 4.0, "gelu"};
  config.fusion = FusionConfig{std::get<2>(combination), 16, 1, 2};
  return config;
}

TEST_P(Combinations, TrainsAFewStepsAndEveryParameterGetsAGradient) {
  torch::manual_seed(0);
  auto model = build_model(small_config(GetParam()), TextVocab{20, 3});
  LossConfig loss;
  if (model->fusion().has_match()) loss.terms.push_back({"itm", 1.0});
  attach_loss_parameters(*model, loss);
  auto optimizer = build_optimizer(*model, OptimConfig{});
  const auto images = torch::randn({4, 3, 64, 64});
  const auto tokens = torch::tensor({{2, 5, 3, 0, 0, 0}, {2, 6, 7, 3, 0, 0}, {2, 8, 3, 0, 0, 0}, {2, 9, 10, 11, 3, 0}},
                                    torch::kLong);
  for (int step = 0; step < 3; ++step) {
    optimizer->zero_grad();
    auto out = model->forward(images, tokens);
    ASSERT_EQ(out.image_embeds.sizes(), (std::vector<int64_t>{4, 16}));
    ASSERT_EQ(out.text_embeds.sizes(), (std::vector<int64_t>{4, 16}));
    auto result = compute_loss(loss, out, *model);
    ASSERT_TRUE(std::isfinite(result.total.item<double>()));
    result.total.backward();
    if (step == 0) {
      for (const auto& item : model->named_parameters()) {
        ASSERT_TRUE(item.value().grad().defined()) << item.key();
        EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
      }
    }
    optimizer->step();
  }
}

INSTANTIATE_TEST_SUITE_P(AllTowersAndFusions, Combinations,
                         ::testing::Combine(::testing::Values("vit", "resnet", "convnet"),
                                            ::testing::Values("transformer", "bow"),
                                            ::testing::Values("late", "early", "cross_attention")),
                         [](const ::testing::TestParamInfo<Combination>& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_" +
                                  std::get<2>(info.param);
                         });

}  // namespace
}  // namespace mmtrain
