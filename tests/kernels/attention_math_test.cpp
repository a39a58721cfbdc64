#include "mmtrain/kernels/attention_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace mmtrain::attention_math {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(AttentionMath, ExpIsWithinTwoUlpsOfStdExpOverTheWholeRange) {
  double worst = 0.0;
  for (float x = -87.0f; x < 88.0f; x += 0.0137f) {
    const double exact = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::fabs(exp_approx(x) - exact) / exact);
  }
  EXPECT_LT(worst, 2 * 1.1920929e-7);  // FLT_EPSILON per ulp
}

TEST(AttentionMath, ExpOfMinusInfinityIsExactlyZeroAndNanStaysNan) {
  EXPECT_EQ(exp_approx(-kInf), 0.0f);
  EXPECT_EQ(exp_approx(-100.0f), 0.0f);
  EXPECT_EQ(exp_approx(0.0f), 1.0f);
  EXPECT_TRUE(std::isnan(exp_approx(std::nanf(""))));
}

TEST(AttentionMath, VectorExpAgreesWithTheScalarOneInTheTail) {
  std::vector<float> x(37), y(37);  // 37: two 16-lane blocks and a tail of 5
  for (size_t i = 0; i < x.size(); ++i) x[i] = -20.0f + 1.1f * static_cast<float>(i);
  exp_rows(x.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], exp_approx(x[i])) << "at " << i;
}

TEST(AttentionMath, SoftmaxOfLogsGivesTheNormalisedValues) {
  std::vector<float> s = {0.0f, std::log(2.0f), std::log(3.0f)};  // e^s = 1, 2, 3
  softmax_rows(s.data(), 1, 3, nullptr, 0);
  EXPECT_NEAR(s[0], 1.0 / 6, 1e-7);
  EXPECT_NEAR(s[1], 2.0 / 6, 1e-7);
  EXPECT_NEAR(s[2], 3.0 / 6, 1e-7);
}

TEST(AttentionMath, MaskAddsPerRowAndMinusInfinityGetsExactlyZero) {
  std::vector<float> s = {1.0f, 1.0f, 1.0f, 5.0f, 5.0f, 5.0f};  // 2 rows of 3
  const std::vector<float> mask = {0.0f, -kInf, 0.0f, 0.0f, 0.0f, -kInf};
  softmax_rows(s.data(), 2, 3, mask.data(), 3);
  EXPECT_FLOAT_EQ(s[0], 0.5f);
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_FLOAT_EQ(s[2], 0.5f);
  EXPECT_FLOAT_EQ(s[3], 0.5f);
  EXPECT_FLOAT_EQ(s[4], 0.5f);
  EXPECT_EQ(s[5], 0.0f);
}

TEST(AttentionMath, AFullyMaskedRowBecomesZerosNotNans) {
  std::vector<float> s = {3.0f, 4.0f};
  const std::vector<float> mask = {-kInf, -kInf};
  softmax_rows(s.data(), 1, 2, mask.data(), 2);
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_EQ(s[1], 0.0f);
}

TEST(AttentionMath, SoftmaxBackwardIsTheJacobianTimesTheGradient) {
  // p = (1/2, 1/2), dL/dp = (1, 0): dL/ds_i = p_i (g_i - p.g) = (1/4, -1/4)
  const std::vector<float> p = {0.5f, 0.5f};
  std::vector<float> dp = {1.0f, 0.0f};
  softmax_backward_rows(p.data(), dp.data(), 1, 2);
  EXPECT_FLOAT_EQ(dp[0], 0.25f);
  EXPECT_FLOAT_EQ(dp[1], -0.25f);
}

uint16_t bf16_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return static_cast<uint16_t>(bits >> 16);
}

TEST(AttentionMath, Bf16StoreRoundsHalfwayToEvenAndLoadWidensExactly) {
  // 1 + 2^-8 lies halfway between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: to even again (1 + 2^-6).
  const std::vector<float> src = {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, -2.5f, std::nanf("")};
  std::vector<uint16_t> out(4);
  store_rows(src.data(), 1, 4, out.data(), 4);
  EXPECT_EQ(out[0], bf16_bits(1.0f));
  EXPECT_EQ(out[1], bf16_bits(1.0f + 1.0f / 64));
  EXPECT_EQ(out[2], bf16_bits(-2.5f));
  std::vector<float> back(4);
  load_rows(out.data(), 4, 1, 4, back.data());
  EXPECT_EQ(back[2], -2.5f);
  EXPECT_TRUE(std::isnan(back[3]));
}

TEST(AttentionMath, Bf16LoadGathersStridedRows) {
  const std::vector<uint16_t> src = {bf16_bits(1), bf16_bits(2), 0xFFFF, bf16_bits(3), bf16_bits(-4), 0xFFFF};
  std::vector<float> dst(4);
  load_rows(src.data(), 3, 2, 2, dst.data());  // 2 rows of 2, row stride 3: the 0xFFFF are skipped
  EXPECT_EQ(dst, (std::vector<float>{1, 2, 3, -4}));
}

TEST(AttentionMath, GemmHonoursRowMajorTransposes) {
  const std::vector<float> a = {1, 2, 3, 4, 5, 6};  // [2,3]
  const std::vector<float> b = {1, 0, 2, 1, 0, 1};  // [2,3], used as B^T [3,2]
  std::vector<float> c(4, 7.0f);
  gemm(false, true, 2, 2, 3, 1.0f, a.data(), 3, b.data(), 3, 0.0f, c.data(), 2);  // A B^T
  EXPECT_EQ(c, (std::vector<float>{7, 4, 16, 10}));
  std::vector<float> d(9);
  gemm(true, false, 3, 3, 2, 2.0f, a.data(), 3, b.data(), 3, 0.0f, d.data(), 3);  // 2 A^T B
  EXPECT_EQ(d, (std::vector<float>{10, 0, 12, 14, 0, 18, 18, 0, 24}));
}

}  // namespace
}  // namespace mmtrain::attention_math
