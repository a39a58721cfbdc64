#include "mmtrain/train/optimizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

struct TwoLinears : torch::nn::Module {
  TwoLinears() {
    used = register_module("used", torch::nn::Linear(3, 2));
    unused = register_module("unused", torch::nn::Linear(3, 2));
  }
  torch::nn::Linear used{nullptr}, unused{nullptr};
};

TEST(ClearGradients, LeavesEveryGradientUndefinedSoBackwardHandsItsOwnOver) {
  TwoLinears model;
  auto optimizer = build_optimizer(model, OptimConfig{});
  model.used(torch::randn({4, 3})).sum().backward();
  ASSERT_TRUE(model.used->weight.grad().defined());
  clear_gradients(*optimizer);
  for (const auto& parameter : model.parameters()) EXPECT_FALSE(parameter.grad().defined());
}

TEST(ClearGradients, AParameterWithoutGradientIsLeftAloneByTheStep) {
  // Zeroed gradients would still move it (weight decay, Adam's momentum); dropped ones skip it,
  // as in PyTorch 2.
  TwoLinears model;
  auto optimizer = build_optimizer(model, OptimConfig{});
  const auto x = torch::randn({4, 3});
  (model.used(x).sum() + model.unused(x).sum()).backward();  // a first step reaches both
  optimizer->step();
  const auto unused_before = model.unused->weight.detach().clone();
  const auto used_before = model.used->weight.detach().clone();
  clear_gradients(*optimizer);
  model.used(x).sum().backward();
  optimizer->step();
  EXPECT_TRUE(torch::equal(model.unused->weight, unused_before));
  EXPECT_FALSE(torch::equal(model.used->weight, used_before));
}

}  // namespace
}  // namespace mmtrain
