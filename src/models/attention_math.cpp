#include "mmtrain/models/attention_math.h"

#include <cblas.h>

#include <cmath>
#include <limits>

#include "vector_kernels.h"

namespace mmtrain::attention_math {

namespace {

using vector_kernels::bf16_to_float;
using vector_kernels::exp_kernel;
using vector_kernels::float_to_bf16;

// Reductions over 16 independent lanes: the compiler may not reorder a float sum itself (no
// -ffast-math here), but it vectorises the lanes, and the order stays fixed for every target.
constexpr int64_t kLanes = 16;

__attribute__((always_inline)) inline float row_max(const float* s, int64_t cols) {
  float lane[kLanes];
  for (int64_t k = 0; k < kLanes; ++k) lane[k] = -std::numeric_limits<float>::infinity();
  int64_t j = 0;
  for (; j + kLanes <= cols; j += kLanes) {
    for (int64_t k = 0; k < kLanes; ++k) lane[k] = s[j + k] > lane[k] ? s[j + k] : lane[k];
  }
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t k = 0; k < kLanes; ++k) max = lane[k] > max ? lane[k] : max;
  for (; j < cols; ++j) max = s[j] > max ? s[j] : max;
  return max;
}

__attribute__((always_inline)) inline float row_dot(const float* a, const float* b, int64_t cols) {
  float lane[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= cols; j += kLanes) {
    for (int64_t k = 0; k < kLanes; ++k) lane[k] += a[j + k] * b[j + k];
  }
  float sum = 0.0f;
  for (int64_t k = 0; k < kLanes; ++k) sum += lane[k];
  for (; j < cols; ++j) sum += a[j] * b[j];
  return sum;
}

// s = e^(s - max) in place, returning the sum: one pass for both.
__attribute__((always_inline)) inline float exp_shifted_sum(float* s, int64_t cols, float max) {
  float lane[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= cols; j += kLanes) {
    for (int64_t k = 0; k < kLanes; ++k) {
      s[j + k] = exp_kernel(s[j + k] - max);
      lane[k] += s[j + k];
    }
  }
  float sum = 0.0f;
  for (int64_t k = 0; k < kLanes; ++k) sum += lane[k];
  for (; j < cols; ++j) {
    s[j] = exp_kernel(s[j] - max);
    sum += s[j];
  }
  return sum;
}

MMTRAIN_VECTOR_CLONES void softmax_row(float* s, int64_t cols, const float* mask) {
  if (mask != nullptr) {
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) s[j] += mask[j];
  }
  const float max = row_max(s, cols);
  if (max == -std::numeric_limits<float>::infinity()) {
    for (int64_t j = 0; j < cols; ++j) s[j] = 0.0f;
    return;
  }
  const float inv = 1.0f / exp_shifted_sum(s, cols, max);
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) s[j] *= inv;
}

MMTRAIN_VECTOR_CLONES void softmax_backward_row(const float* p, float* dp, int64_t cols) {
  const float dot = row_dot(p, dp, cols);
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) dp[j] = p[j] * (dp[j] - dot);
}

MMTRAIN_VECTOR_CLONES void load_row(const uint16_t* src, int64_t cols, float* dst) {
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) dst[j] = bf16_to_float(src[j]);
}

MMTRAIN_VECTOR_CLONES void store_row(const float* src, int64_t cols, uint16_t* dst) {
#pragma omp simd
  for (int64_t j = 0; j < cols; ++j) dst[j] = float_to_bf16(src[j]);
}

}  // namespace

float exp_approx(float x) { return exp_kernel(x); }

MMTRAIN_VECTOR_CLONES void exp_rows(const float* src, float* dst, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dst[i] = exp_kernel(src[i]);
}

void softmax_rows(float* s, int64_t rows, int64_t cols, const float* mask, int64_t mask_row_stride) {
  for (int64_t r = 0; r < rows; ++r) {
    softmax_row(s + r * cols, cols, mask == nullptr ? nullptr : mask + r * mask_row_stride);
  }
}

void softmax_backward_rows(const float* p, float* dp, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) softmax_backward_row(p + r * cols, dp + r * cols, cols);
}

void load_rows(const uint16_t* src_bf16, int64_t row_stride, int64_t rows, int64_t cols, float* dst) {
  for (int64_t r = 0; r < rows; ++r) load_row(src_bf16 + r * row_stride, cols, dst + r * cols);
}

void store_rows(const float* src, int64_t rows, int64_t cols, uint16_t* dst_bf16, int64_t row_stride) {
  for (int64_t r = 0; r < rows; ++r) store_row(src + r * cols, cols, dst_bf16 + r * row_stride);
}

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

}  // namespace mmtrain::attention_math
