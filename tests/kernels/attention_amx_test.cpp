#include "mmtrain/kernels/attention_amx.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "support/bf16.h"

namespace mmtrain::attention_amx {
namespace {

using test::from_bf16;
using test::to_bf16;

// A bf16 matrix of `rows` x `cols` stored with a wider row stride, as a head inside packed q;k;v.
struct Matrix {
  int64_t rows, cols, stride;
  std::vector<uint16_t> data;

  Matrix(int64_t r, int64_t c, std::mt19937& rng) : rows(r), cols(c), stride(3 * c + 5), data(r * stride, 0xFFFF) {
    std::normal_distribution<float> normal;
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j = 0; j < cols; ++j) data[i * stride + j] = to_bf16(normal(rng));
    }
  }
  double at(int64_t i, int64_t j) const { return from_bf16(data[i * stride + j]); }
  Rows view() const { return {data.data(), stride}; }
  MutableRows mutable_view() { return {data.data(), stride}; }
};

// The attention of one head in double, straight from the definitions.
struct Reference {
  std::vector<double> probs, out, dq, dk, dv;  // dense [tq,tk], [tq,dh], [tq,dh], [tk,dh], [tk,dh]

  Reference(const HeadShape& s, const Matrix& q, const Matrix& k, const Matrix& v, const std::vector<float>& mask,
            const Matrix& dout)
      : probs(s.tq * s.tk), out(s.tq * s.head_dim), dq(s.tq * s.head_dim), dk(s.tk * s.head_dim),
        dv(s.tk * s.head_dim) {
    const int64_t tq = s.tq, tk = s.tk, dh = s.head_dim;
    for (int64_t i = 0; i < tq; ++i) {
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < tk; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < dh; ++d) dot += q.at(i, d) * k.at(j, d);
        probs[i * tk + j] = s.scale * dot + (mask.empty() ? 0.0 : mask[i * tk + j]);
        max = std::max(max, probs[i * tk + j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < tk; ++j) {
        probs[i * tk + j] = std::isinf(max) ? 0.0 : std::exp(probs[i * tk + j] - max);
        sum += probs[i * tk + j];
      }
      for (int64_t j = 0; j < tk; ++j) probs[i * tk + j] = sum > 0 ? probs[i * tk + j] / sum : 0.0;
    }
    for (int64_t i = 0; i < tq; ++i) {
      std::vector<double> dp(tk);
      double dot = 0;
      for (int64_t j = 0; j < tk; ++j) {
        const double p = probs[i * tk + j];
        for (int64_t d = 0; d < dh; ++d) {
          out[i * dh + d] += p * v.at(j, d);
          dp[j] += dout.at(i, d) * v.at(j, d);
          dv[j * dh + d] += p * dout.at(i, d);
        }
        dot += p * dp[j];
      }
      for (int64_t j = 0; j < tk; ++j) {
        const double ds = probs[i * tk + j] * (dp[j] - dot) * s.scale;
        for (int64_t d = 0; d < dh; ++d) {
          dq[i * dh + d] += ds * k.at(j, d);
          dk[j * dh + d] += ds * q.at(i, d);
        }
      }
    }
  }
};

// The largest difference relative to the reference's largest magnitude.
double relative_error(const Matrix& got, const std::vector<double>& want) {
  double error = 0, scale = 1e-30;
  for (int64_t i = 0; i < got.rows; ++i) {
    for (int64_t j = 0; j < got.cols; ++j) {
      error = std::max(error, std::abs(got.at(i, j) - want[i * got.cols + j]));
      scale = std::max(scale, std::abs(want[i * got.cols + j]));
    }
  }
  return error / scale;
}

// Both passes on one head against the double reference. Tolerances: the probabilities stay fp32
// (1e-5 absolute); out, dq, dk, dv are rounded to bf16 once (2^-9 relative) after products whose
// probability or softmax-gradient operand was rounded to bf16 too, so 1% of the largest entry.
void expect_head_matches_reference(int64_t tq, int64_t tk, int64_t dh, bool causal, unsigned seed) {
  if (!available()) GTEST_SKIP() << "this CPU (or kernel) offers no AMX-BF16 tiles";
  std::mt19937 rng(seed);
  const HeadShape shape{tq, tk, dh, static_cast<float>(1 / std::sqrt(static_cast<double>(dh)))};
  const Matrix q(tq, dh, rng), k(tk, dh, rng), v(tk, dh, rng), dout(tq, dh, rng);
  std::vector<float> mask;
  if (causal) {
    for (int64_t i = 0; i < tq; ++i) {
      for (int64_t j = 0; j < tk; ++j) mask.push_back(j > i ? -std::numeric_limits<float>::infinity() : 0.0f);
    }
  }
  Matrix out(tq, dh, rng), dq(tq, dh, rng), dk(tk, dh, rng), dv(tk, dh, rng);
  std::vector<float> probs(tq * tk);
  Workspace ws(shape);
  forward(shape, q.view(), k.view(), v.view(), causal ? mask.data() : nullptr, tk, probs.data(), out.mutable_view(),
          ws);
  backward(shape, q.view(), k.view(), v.view(), probs.data(), dout.view(), dq.mutable_view(), dk.mutable_view(),
           dv.mutable_view(), ws);
  const Reference want(shape, q, k, v, mask, dout);
  double probs_error = 0;
  for (size_t i = 0; i < probs.size(); ++i) probs_error = std::max(probs_error, std::abs(probs[i] - want.probs[i]));
  EXPECT_LT(probs_error, 1e-5);
  EXPECT_LT(relative_error(out, want.out), 1e-2);
  EXPECT_LT(relative_error(dq, want.dq), 1e-2);
  EXPECT_LT(relative_error(dk, want.dk), 1e-2);
  EXPECT_LT(relative_error(dv, want.dv), 1e-2);
  // The padding never leaks: the entries past each row's width are the stride's untouched 0xFFFF.
  EXPECT_EQ(out.data[dh], 0xFFFF);
  EXPECT_EQ(dk.data[(tk - 1) * dk.stride + dh], 0xFFFF);
}

TEST(AttentionAmx, ViTSizedHeadMatchesADoublePrecisionReference) {
  expect_head_matches_reference(65, 65, 32, false, 1);
}

TEST(AttentionAmx, CausalTextHeadMatchesTheReference) { expect_head_matches_reference(32, 32, 64, true, 2); }

TEST(AttentionAmx, FewQueriesOverManyKeysMatchTheReference) { expect_head_matches_reference(7, 40, 32, false, 3); }

TEST(AttentionAmx, MoreQueriesThanKeysWithAMaskMatchTheReference) {
  expect_head_matches_reference(33, 17, 32, true, 4);
}

TEST(AttentionAmx, AFullyMaskedQueryGetsZerosNotNans) {
  if (!available()) GTEST_SKIP() << "this CPU (or kernel) offers no AMX-BF16 tiles";
  std::mt19937 rng(5);
  const HeadShape shape{3, 4, 32, 0.25f};
  const Matrix q(3, 32, rng), k(4, 32, rng), v(4, 32, rng);
  Matrix out(3, 32, rng);
  std::vector<float> mask(12, 0.0f), probs(12);
  std::fill(mask.begin() + 4, mask.begin() + 8, -std::numeric_limits<float>::infinity());  // query 1 sees nothing
  Workspace ws(shape);
  forward(shape, q.view(), k.view(), v.view(), mask.data(), 4, probs.data(), out.mutable_view(), ws);
  for (int j = 0; j < 4; ++j) EXPECT_EQ(probs[4 + j], 0.0f);
  for (int d = 0; d < 32; ++d) EXPECT_EQ(out.at(1, d), 0.0);
  EXPECT_NEAR(probs[0] + probs[1] + probs[2] + probs[3], 1.0, 1e-6);
}

TEST(AttentionAmx, TakesHeadSizesThatFillWholeTileRows) {
  EXPECT_TRUE(supports_head_dim(32));
  EXPECT_TRUE(supports_head_dim(64));
  EXPECT_FALSE(supports_head_dim(16));
  EXPECT_FALSE(supports_head_dim(48));
  EXPECT_FALSE(supports_head_dim(0));
}

}  // namespace
}  // namespace mmtrain::attention_amx
