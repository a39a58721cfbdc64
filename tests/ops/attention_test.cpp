#include "mmtrain/ops/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "support/relative_error.h"
namespace mmtrain {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using test::relative_error;

torch::Tensor causal_mask(int64_t length) {
  return torch::full({length, length}, -kInf).triu(1);
}

struct SelfCase {
  torch::Tensor out, grad_qkv;
};

// Output and d(out . g)/d(qkv) through either path; g fixes the direction of the gradient.
SelfCase run_self(const torch::Tensor& qkv_in, const torch::Tensor& mask, int64_t heads, const torch::Tensor& g,
                  bool fused) {
  auto qkv = qkv_in.detach().clone().requires_grad_(true);
  const int64_t width = qkv.size(2) / 3;
  auto out = fused ? self_attention(qkv, mask, heads)
                   : attention_reference(qkv.narrow(2, 0, width), qkv.narrow(2, width, width),
                                         qkv.narrow(2, 2 * width, width), mask, heads);
  out.backward(g);
  return {out.detach(), qkv.grad()};
}

void expect_self_matches_reference(const torch::Tensor& qkv, const torch::Tensor& mask, int64_t heads) {
  const auto g = torch::randn({qkv.size(0), qkv.size(1), qkv.size(2) / 3});
  const auto fused = run_self(qkv, mask, heads, g, true);
  const auto reference = run_self(qkv, mask, heads, g, false);
  EXPECT_LT(relative_error(fused.out, reference.out), 1e-5);
  EXPECT_LT(relative_error(fused.grad_qkv, reference.grad_qkv), 1e-5);
}

TEST(FusedAttention, SelfAttentionMatchesLibTorchOperatorsInValueAndGradient) {
  torch::manual_seed(0);
  expect_self_matches_reference(torch::randn({3, 7, 3 * 16}), torch::Tensor(), 4);
}

TEST(FusedAttention, CausalMaskMatchesAndFutureKeysGetNoGradient) {
  torch::manual_seed(1);
  const auto qkv = torch::randn({2, 6, 3 * 8});
  expect_self_matches_reference(qkv, causal_mask(6), 2);
  // Position 0 sees only key 0, so its output is exactly v_0: nothing from later positions.
  const auto out = self_attention(qkv, causal_mask(6), 2);
  EXPECT_TRUE(torch::allclose(out.select(1, 0), qkv.select(1, 0).narrow(1, 16, 8)));
}

TEST(FusedAttention, KeyPaddingBiasBroadcastsOverHeadsAndQueries) {
  torch::manual_seed(2);
  auto bias = torch::zeros({2, 1, 1, 5});
  bias[0][0][0][4] = -kInf;  // the first sample's last token is padding
  bias[1][0][0][3] = -1e4;   // a finite large negative, as a padding bias may be
  expect_self_matches_reference(torch::randn({2, 5, 3 * 12}), bias, 3);
}

TEST(FusedAttention, ManyHeadsAcrossThreadsMatchTheReference) {
  torch::manual_seed(3);
  const int previous = torch::get_num_threads();
  torch::set_num_threads(2);
  expect_self_matches_reference(torch::randn({16, 65, 3 * 128}), torch::Tensor(), 4);
  torch::set_num_threads(previous);
}

TEST(FusedAttention, AFullyMaskedQueryGivesZerosInsteadOfNans) {
  auto mask = torch::zeros({3, 3});
  mask[1].fill_(-kInf);
  const auto out = self_attention(torch::randn({1, 3, 3 * 4}), mask, 1);
  EXPECT_FALSE(torch::isnan(out).any().item<bool>());
  EXPECT_TRUE(torch::equal(out[0][1], torch::zeros({4})));
}

TEST(FusedAttention, CrossAttentionWithFewerQueriesThanKeysMatchesTheReference) {
  torch::manual_seed(4);
  auto q = torch::randn({2, 3, 16}).requires_grad_(true);
  auto kv = torch::randn({2, 9, 32}).requires_grad_(true);
  auto q_ref = q.detach().clone().requires_grad_(true);
  auto kv_ref = kv.detach().clone().requires_grad_(true);
  auto mask = torch::zeros({2, 1, 1, 9});
  mask[1][0][0][8] = -kInf;
  const auto g = torch::randn({2, 3, 16});
  auto out = cross_attention(q, kv, mask, 4);
  out.backward(g);
  auto reference = attention_reference(q_ref, kv_ref.narrow(2, 0, 16), kv_ref.narrow(2, 16, 16), mask, 4);
  reference.backward(g);
  EXPECT_LT(relative_error(out, reference), 1e-5);
  EXPECT_LT(relative_error(q.grad(), q_ref.grad()), 1e-5);
  EXPECT_LT(relative_error(kv.grad(), kv_ref.grad()), 1e-5);
}

TEST(FusedAttention, NonContiguousOutputGradientIsRead) {
  torch::manual_seed(5);
  const auto qkv = torch::randn({2, 4, 3 * 8});
  const auto g = torch::randn({8, 4, 2}).permute({2, 1, 0});  // [2,4,8], last dim strided
  ASSERT_NE(g.stride(2), 1);
  const auto fused = run_self(qkv, torch::Tensor(), 2, g, true);
  const auto reference = run_self(qkv, torch::Tensor(), 2, g, false);
  EXPECT_LT(relative_error(fused.grad_qkv, reference.grad_qkv), 1e-5);
}

TEST(FusedAttention, AnOutputGradientExpandedOverTimeIsRead) {
  torch::manual_seed(7);
  const auto qkv = torch::randn({2, 5, 3 * 8});
  const auto g = torch::randn({2, 1, 8}).expand({2, 5, 8});  // row stride 0, as from a mean over time
  const auto fused = run_self(qkv, torch::Tensor(), 2, g, true);
  const auto reference = run_self(qkv, torch::Tensor(), 2, g, false);
  EXPECT_LT(relative_error(fused.grad_qkv, reference.grad_qkv), 1e-5);
}

// Causal self-attention on bf16 q;k;v and output gradient against the fp32 reference from the same
// bf16 values; the results stay bf16.
void expect_bf16_matches_fp32_reference(int64_t batch, int64_t length, int64_t width, int64_t heads,
                                        double tolerance) {
  const auto qkv = torch::randn({batch, length, 3 * width}).to(torch::kBFloat16);
  const auto g = torch::randn({batch, length, width}).to(torch::kBFloat16);
  const auto fused = run_self(qkv, causal_mask(length), heads, g, true);
  const auto reference = run_self(qkv.to(torch::kFloat), causal_mask(length), heads, g.to(torch::kFloat), false);
  EXPECT_EQ(fused.out.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(fused.grad_qkv.scalar_type(), torch::kBFloat16);
  EXPECT_LT(relative_error(fused.out, reference.out), tolerance);
  EXPECT_LT(relative_error(fused.grad_qkv, reference.grad_qkv), tolerance);
}

TEST(FusedAttention, Bf16InputsComputeInFp32AndRoundOnceOnTheWayOut) {
  // Head size 4: the only difference left is the final rounding to bf16's 8 significant bits
  // (relative 2^-9 = 0.2%), plus accumulated ulps.
  torch::manual_seed(6);
  expect_bf16_matches_fp32_reference(2, 9, 16, 4, 4e-3);
}

TEST(FusedAttention, Bf16HeadsOfThirtyTwoMatchTheReferenceOnEitherPath) {
  // Head size 32 goes to the AMX tiles where the CPU has them (kernels/attention_amx.h), where the
  // probabilities and the softmax gradient are rounded to bf16 as GEMM operands: 1%, not 0.4%.
  torch::manual_seed(8);
  expect_bf16_matches_fp32_reference(3, 20, 64, 2, 1e-2);
}

TEST(FusedAttention, RefusesAWidthThatDoesNotSplitIntoHeads) {
  EXPECT_THROW(self_attention(torch::randn({1, 2, 3 * 10}), torch::Tensor(), 4), c10::Error);
  EXPECT_THROW(cross_attention(torch::randn({1, 2, 8}), torch::randn({1, 2, 12}), torch::Tensor(), 2), c10::Error);
}

}  // namespace
}  // namespace mmtrain
