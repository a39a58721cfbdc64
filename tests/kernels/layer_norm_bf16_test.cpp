#include "mmtrain/kernels/layer_norm_bf16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "support/bf16.h"

namespace mmtrain::layer_norm_bf16 {
namespace {

using test::from_bf16;
using test::to_bf16;

constexpr float kEps = 1e-5f;

// Rows of `width` values with a per-row offset and spread, gamma and beta, and a bf16 dy.
struct Case {
  int64_t rows, width;
  std::vector<float> x, gamma, beta;
  std::vector<uint16_t> dy;

  Case(int64_t rows_, int64_t width_) : rows(rows_), width(width_) {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    for (int64_t i = 0; i < rows; ++i) {
      const float offset = 3.0f * normal(rng), spread = std::exp(normal(rng));
      for (int64_t j = 0; j < width; ++j) x.push_back(offset + spread * normal(rng));
    }
    for (int64_t j = 0; j < width; ++j) {
      gamma.push_back(1.0f + 0.3f * normal(rng));
      beta.push_back(0.2f * normal(rng));
    }
    for (int64_t k = 0; k < rows * width; ++k) dy.push_back(to_bf16(normal(rng)));
  }
};

// One row's statistics and normalised values in double, from the definitions.
struct RowReference {
  double mean = 0, rstd = 0;
  std::vector<double> xhat;

  RowReference(const Case& c, int64_t i) {
    const float* row = &c.x[i * c.width];
    for (int64_t j = 0; j < c.width; ++j) mean += row[j];
    mean /= c.width;
    double variance = 0;
    for (int64_t j = 0; j < c.width; ++j) variance += (row[j] - mean) * (row[j] - mean);
    rstd = 1 / std::sqrt(variance / c.width + kEps);
    for (int64_t j = 0; j < c.width; ++j) xhat.push_back((row[j] - mean) * rstd);
  }
};

void expect_forward_matches_reference(int64_t rows, int64_t width) {
  const Case c(rows, width);
  std::vector<uint16_t> y(rows * width + 1, 0xABCD);
  std::vector<float> mean(rows), rstd(rows);
  forward(c.x.data(), c.gamma.data(), c.beta.data(), rows, width, kEps, y.data(), mean.data(), rstd.data());
  for (int64_t i = 0; i < rows; ++i) {
    const RowReference ref(c, i);
    EXPECT_NEAR(mean[i], ref.mean, 1e-6 * (1 + std::abs(ref.mean))) << "row " << i;
    EXPECT_NEAR(rstd[i], ref.rstd, 1e-5 * ref.rstd) << "row " << i;
    for (int64_t j = 0; j < width; ++j) {
      const double want = ref.xhat[j] * c.gamma[j] + c.beta[j];
      // One rounding to bf16 (2^-8 relative) after fp32 arithmetic.
      EXPECT_LE(std::abs(from_bf16(y[i * width + j]) - want), std::ldexp(std::abs(want), -8) + 1e-5)
          << "row " << i << ", column " << j;
    }
  }
  EXPECT_EQ(y[rows * width], 0xABCD) << "written past the last row";
}

TEST(LayerNormBf16, ForwardIsTheNormalisedRowRoundedOnceToBf16) {
  if (!available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  expect_forward_matches_reference(9, 128);
}

TEST(LayerNormBf16, AWidthThatIsNotAMultipleOf16IsHandled) {
  if (!available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  expect_forward_matches_reference(5, 40);
}

void expect_backward_matches_reference(int64_t rows, int64_t width) {
  const Case c(rows, width);
  std::vector<float> mean(rows), rstd(rows), dx(rows * width), dgamma(width, 0.5f), dbeta(width, -0.25f);
  std::vector<uint16_t> y(rows * width);
  forward(c.x.data(), c.gamma.data(), c.beta.data(), rows, width, kEps, y.data(), mean.data(), rstd.data());
  backward(c.x.data(), c.dy.data(), c.gamma.data(), mean.data(), rstd.data(), rows, width, dx.data(),
           dgamma.data(), dbeta.data());
  std::vector<double> want_dgamma(width, 0.5), want_dbeta(width, -0.25);
  for (int64_t i = 0; i < rows; ++i) {
    const RowReference ref(c, i);
    // dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma.
    double mean_g = 0, mean_g_xhat = 0;
    for (int64_t j = 0; j < width; ++j) {
      const double g = from_bf16(c.dy[i * width + j]) * c.gamma[j];
      mean_g += g / width;
      mean_g_xhat += g * ref.xhat[j] / width;
    }
    for (int64_t j = 0; j < width; ++j) {
      const double d = from_bf16(c.dy[i * width + j]);
      const double want = ref.rstd * (d * c.gamma[j] - mean_g - ref.xhat[j] * mean_g_xhat);
      EXPECT_NEAR(dx[i * width + j], want, 2e-5 * ref.rstd * (1 + std::abs(d))) << "row " << i << ", column " << j;
      want_dgamma[j] += d * ref.xhat[j];
      want_dbeta[j] += d;
    }
  }
  for (int64_t j = 0; j < width; ++j) {
    EXPECT_NEAR(dgamma[j], want_dgamma[j], 1e-4) << "column " << j;
    EXPECT_NEAR(dbeta[j], want_dbeta[j], 1e-5) << "column " << j;
  }
}

TEST(LayerNormBf16, BackwardGivesTheInputGradientAndAddsIntoTheParameterGradients) {
  if (!available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  expect_backward_matches_reference(9, 128);
  expect_backward_matches_reference(5, 40);
}

}  // namespace
}  // namespace mmtrain::layer_norm_bf16
