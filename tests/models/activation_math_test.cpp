#include "mmtrain/models/activation_math.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

namespace mmtrain::activation_math {
namespace {

double exact_gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }

double exact_gelu_grad(double x) {
  return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
}

std::vector<float> grid() {  // 28,572 points over [-10, 10]: both tails, zero, and a vector tail
  std::vector<float> x;
  for (float v = -10.0f; v < 10.0f; v += 0.0007f) x.push_back(v);
  return x;
}

TEST(ActivationMath, ErfIsWithinFiveTenMillionthsOfStdErf) {
  for (float x : grid()) ASSERT_NEAR(erf_approx(x), std::erf(static_cast<double>(x)), 5e-7) << "at " << x;
}

TEST(ActivationMath, GeluAndItsDerivativeMatchTheExactFormulas) {
  const auto x = grid();
  const std::vector<float> ones(x.size(), 1.0f);
  std::vector<float> y(x.size()), dx(x.size());
  gelu_forward(x.data(), y.data(), static_cast<int64_t>(x.size()));
  gelu_backward(x.data(), ones.data(), dx.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(y[i], exact_gelu(x[i]), 2.5e-7 * std::max(1.0f, std::fabs(x[i]))) << "at " << x[i];
    ASSERT_NEAR(dx[i], exact_gelu_grad(x[i]), 3e-7) << "at " << x[i];
  }
}

uint16_t to_bf16_bits(float f) {  // exact for the values used: they have 8 significant bits
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return static_cast<uint16_t>(bits >> 16);
}

float from_bf16_bits(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

TEST(ActivationMath, Bf16GeluRoundsTheFp32ResultOnce) {
  const std::vector<float> values = {-4.0f, -1.5f, -0.25f, 0.0f, 0.5f, 1.0f, 2.75f, 6.0f};
  std::vector<uint16_t> x, y(values.size()), dy(values.size(), to_bf16_bits(2.0f)), dx(values.size());
  for (float v : values) x.push_back(to_bf16_bits(v));
  gelu_forward(x.data(), y.data(), static_cast<int64_t>(x.size()));
  gelu_backward(x.data(), dy.data(), dx.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < values.size(); ++i) {
    const double want = exact_gelu(values[i]), want_grad = 2.0 * exact_gelu_grad(values[i]);
    EXPECT_NEAR(from_bf16_bits(y[i]), want, std::fabs(want) / 256 + 1e-6) << "at " << values[i];
    EXPECT_NEAR(from_bf16_bits(dx[i]), want_grad, std::fabs(want_grad) / 256 + 1e-6) << "at " << values[i];
  }
}

}  // namespace
}  // namespace mmtrain::activation_math
