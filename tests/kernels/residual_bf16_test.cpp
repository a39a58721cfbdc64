#include "mmtrain/kernels/residual_bf16.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "support/bf16.h"

namespace mmtrain::residual_bf16 {
namespace {

TEST(ResidualBf16, AddsTheWidenedBranchInFp32AndStopsAtTheEnd) {
  if (!available()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  constexpr int64_t n = 37;  // two full vectors and a short tail
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> x(n), out(n + 1, -7.0f);
  std::vector<uint16_t> branch(n);
  for (int64_t i = 0; i < n; ++i) {
    x[i] = 100.0f * normal(rng);
    branch[i] = test::to_bf16(normal(rng));
  }
  add(x.data(), branch.data(), out.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(out[i], x[i] + static_cast<float>(test::from_bf16(branch[i]))) << "element " << i;
  }
  EXPECT_EQ(out[n], -7.0f) << "written past the end";
}

}  // namespace
}  // namespace mmtrain::residual_bf16
