#include "mmtrain/ops/gelu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace mmtrain {
namespace {

// Value and gradient of gelu_erf against LibTorch's gelu, both in bf16 from the same inputs.
TEST(GeluErf, Bf16ValueAndGradientAgreeWithLibTorchWithinOneBf16Step) {
  torch::manual_seed(0);
  const auto x = (torch::randn({3, 65, 512}) * 3).to(torch::kBFloat16);
  const auto g = torch::randn({3, 65, 512}).to(torch::kBFloat16);
  auto ours_in = x.clone().requires_grad_(), theirs_in = x.clone().requires_grad_();
  const auto ours = gelu_erf(ours_in), theirs = torch::gelu(theirs_in);
  ours.backward(g);
  theirs.backward(g);
  EXPECT_EQ(ours.scalar_type(), torch::kBFloat16);
  const auto step = [](const torch::Tensor& t) { return t.to(torch::kDouble).abs() * std::ldexp(1.0, -7) + 1e-6; };
  EXPECT_TRUE((ours.to(torch::kDouble) - theirs.to(torch::kDouble)).abs().le(step(theirs)).all().item<bool>());
  EXPECT_TRUE((ours_in.grad().to(torch::kDouble) - theirs_in.grad().to(torch::kDouble))
                  .abs()
                  .le(step(theirs_in.grad()))
                  .all()
                  .item<bool>());
}

TEST(GeluErf, Fp32IsLibTorchsGeluExactly) {
  const auto x = torch::randn({4, 33});
  EXPECT_TRUE(torch::equal(gelu_erf(x), torch::gelu(x)));
}

}  // namespace
}  // namespace mmtrain
