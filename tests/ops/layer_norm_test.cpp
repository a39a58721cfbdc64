#include "mmtrain/ops/layer_norm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/ops/full_precision.h"
#include "mmtrain/kernels/layer_norm_bf16.h"
#include "mmtrain/ops/precision.h"

namespace mmtrain {
namespace {

torch::nn::LayerNorm make_norm(int64_t width) {
  torch::nn::LayerNorm norm(torch::nn::LayerNormOptions({width}));
  torch::NoGradGuard no_grad;
  norm->weight.normal_(1.0, 0.3);
  norm->bias.normal_(0.0, 0.2);
  return norm;
}

// Under CPU bf16 autocast the fused path against what autocast does with LibTorch's LayerNorm:
// fp32 LayerNorm, cast to bf16 (its gradient widened back to fp32).
TEST(LayerNormForLinear, UnderBf16AutocastMatchesLibTorchsLayerNormCastToBf16) {
  if (!layer_norm_bf16::available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  torch::manual_seed(0);
  auto norm = make_norm(128);
  const auto x = torch::randn({3, 65, 128}) * 2 + 1;
  const auto dy = torch::randn({3, 65, 128}).to(torch::kBFloat16);
  auto ours_in = x.clone().requires_grad_(), theirs_in = x.clone().requires_grad_();

  torch::Tensor ours;
  {
    AutocastScope autocast("bf16", torch::kCPU);
    ours = layer_norm_for_linear(norm, ours_in);
  }
  ours.backward(dy);
  const auto ours_grads = std::make_pair(norm->weight.grad().clone(), norm->bias.grad().clone());
  norm->zero_grad();
  const auto theirs = norm(theirs_in).to(torch::kBFloat16);
  theirs.backward(dy);

  ASSERT_EQ(ours.scalar_type(), torch::kBFloat16);
  // Both round an fp32 value computed in a different order: at most one bf16 step apart, and a
  // bf16 step (8 significant bits) is at most 2^-7 of the value.
  const auto gap = (ours.to(torch::kDouble) - theirs.to(torch::kDouble)).abs();
  EXPECT_TRUE(gap.le(theirs.to(torch::kDouble).abs() * std::ldexp(1.0, -7) + 1e-6).all().item<bool>())
      << "largest gap " << gap.max().item<double>();
  EXPECT_TRUE(torch::allclose(ours_in.grad(), theirs_in.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(ours_grads.first, norm->weight.grad(), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(ours_grads.second, norm->bias.grad(), 1e-4, 1e-4));
}

TEST(LayerNormForLinear, WithoutBf16AutocastIsLibTorchsLayerNormExactly) {
  auto norm = make_norm(48);
  const auto x = torch::randn({4, 7, 48});
  EXPECT_TRUE(torch::equal(layer_norm_for_linear(norm, x), norm(x)));
  AutocastScope autocast("bf16", torch::kCPU);
  FullPrecisionScope full_precision;
  const auto y = layer_norm_for_linear(norm, x);
  EXPECT_EQ(y.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(y, norm(x)));
}

}  // namespace
}  // namespace mmtrain
