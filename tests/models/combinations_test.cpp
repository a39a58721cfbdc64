// Every vision tower x text tower x fusion trains: a few AdamW steps on the clip loss (plus
// image-text matching for fused types), with a gradient reaching every parameter.
#include <tuple>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/losses/loss.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/train/optimizer.h"
#include "support/small_model.h"

namespace mmtrain {
namespace {

using test::Combination;

class Combinations : public ::testing::TestWithParam<Combination> {};

TEST_P(Combinations, TrainsAFewStepsAndEveryParameterGetsAGradient) {
  torch::manual_seed(0);
  auto model = build_model(test::small_model_config(GetParam()), TextVocab{20, 3});
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
                           return test::combination_name(info.param);
                         });

}  // namespace
}  // namespace mmtrain
