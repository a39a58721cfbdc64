#include "mmtrain/models/fused_gelu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

TEST(FusedGelu, Bf16ValueAndGradientTrackLibTorchsFp32Gelu) {
  torch::manual_seed(0);
  const auto x16 = (3 * torch::randn({70000})).to(torch::kBFloat16);  // more than one thread's share
  const auto g16 = torch::randn({70000}).to(torch::kBFloat16);
  auto x = x16.clone().requires_grad_(true);
  auto y = fused_gelu(x);
  y.backward(g16);
  auto x32 = x16.to(torch::kFloat).requires_grad_(true);
  auto y32 = torch::gelu(x32);
  y32.backward(g16.to(torch::kFloat));
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(x.grad().scalar_type(), torch::kBFloat16);
  // One rounding to bf16 (relative 2^-9) on each side, plus 1e-6 for values near zero.
  auto within = [](const torch::Tensor& got, const torch::Tensor& want) {
    return ((got.to(torch::kFloat) - want).abs() <= want.abs() / 256 + 1e-6).all().item<bool>();
  };
  EXPECT_TRUE(within(y.detach(), y32.detach()));
  EXPECT_TRUE(within(x.grad(), x32.grad()));
}

TEST(FusedGelu, Fp32IsLibTorchsOwnGelu) {
  const auto x = torch::randn({100});
  EXPECT_TRUE(torch::equal(fused_gelu(x), torch::gelu(x)));
}

}  // namespace
}  // namespace mmtrain
