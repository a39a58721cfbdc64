#include "mmtrain/kernels/gelu_bf16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "support/bf16.h"

namespace mmtrain::gelu_bf16 {
namespace {

using test::from_bf16;
using test::to_bf16;

double phi_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double phi_density(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI); }

// Every bf16 value in [-12, 12]: about 32,000 of them, both signs, from subnormal-small up.
std::vector<uint16_t> sweep() {
  std::vector<uint16_t> values;
  for (uint32_t h = 0; h < 0x8000; ++h) {
    if (!(std::abs(from_bf16(static_cast<uint16_t>(h))) <= 12)) continue;  // also drops NaN
    values.push_back(static_cast<uint16_t>(h));
    values.push_back(static_cast<uint16_t>(h | 0x8000));
  }
  return values;
}

// The result is rounded once to bf16 (at most one bf16 step, 2^-8 relative, from the fp32 value),
// and A&S 7.1.26 gets erf within 1.5e-7 absolute, so Phi within 7.5e-8: x Phi(x) within 7.5e-8 |x|,
// which only shows in the far negative tail, where Phi itself is that small (LibTorch's vectorised
// erf is the same formula). `scale` is |x| for the GELU, |dy| (1 + |x|) for its gradient.
void expect_within_one_bf16_step(double got, double want, double scale, double x) {
  EXPECT_LE(std::abs(got - want), std::ldexp(std::abs(want), -8) + 2e-7 * scale + 1e-30) << "at x = " << x;
}

TEST(GeluBf16, ForwardIsTheExactGeluRoundedToBf16) {
  if (!available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  const auto x = sweep();
  std::vector<uint16_t> y(x.size());
  forward(x.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = from_bf16(x[i]);
    expect_within_one_bf16_step(from_bf16(y[i]), v * phi_cdf(v), std::abs(v), v);
  }
}

TEST(GeluBf16, BackwardIsTheGradientOfTheExactGelu) {
  if (!available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  const auto x = sweep();
  std::vector<uint16_t> dy(x.size()), dx(x.size());
  for (size_t i = 0; i < x.size(); ++i) dy[i] = to_bf16(static_cast<float>(0.5 + (i % 7) * 0.25));
  backward(x.data(), dy.data(), dx.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = from_bf16(x[i]);
    const double d = from_bf16(dy[i]);
    expect_within_one_bf16_step(from_bf16(dx[i]), d * (phi_cdf(v) + v * phi_density(v)), d * (1 + std::abs(v)), v);
  }
}

TEST(GeluBf16, AShortTailIsComputedAndNothingPastItIsTouched) {
  if (!available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  std::vector<uint16_t> x(40), y(40, 0xABCD);
  for (size_t i = 0; i < x.size(); ++i) x[i] = to_bf16(static_cast<float>(i) / 8.0f - 2.0f);
  forward(x.data(), y.data(), 37);
  for (size_t i = 0; i < 37; ++i) {
    const double v = from_bf16(x[i]);
    expect_within_one_bf16_step(from_bf16(y[i]), v * phi_cdf(v), std::abs(v), v);
  }
  for (size_t i = 37; i < 40; ++i) EXPECT_EQ(y[i], 0xABCD);
}

TEST(GeluBf16, InfinityStaysInfiniteAndNanStaysNan) {
  if (!available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  const std::vector<uint16_t> x = {to_bf16(std::numeric_limits<float>::infinity()),
                                   to_bf16(std::numeric_limits<float>::quiet_NaN())};
  std::vector<uint16_t> y(2);
  forward(x.data(), y.data(), 2);
  EXPECT_EQ(from_bf16(y[0]), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(from_bf16(y[1])));
}

}  // namespace
}  // namespace mmtrain::gelu_bf16
