#include "mmtrain/kernels/attention_math.h"

#include <cblas.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>

// One clone per instruction set, chosen by the loader (GNU ifunc). The file is built with
// -fno-trapping-math (without it GCC will not turn the clamps into vector selects) but without
// -ffast-math, which would assume away the -inf of attention masks.
#define MMTRAIN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace mmtrain::attention_math {

namespace {

inline float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint32_t float_to_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// Cephes' expf: x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for e^r, then 2^n from the
// exponent bits. Branch-free so that loops over it vectorise.
__attribute__((always_inline)) inline float exp_kernel(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kMin = -87.0f, kMax = 88.0f;
  const bool underflow = x < kMin;  // also true for -inf; a NaN stays NaN through the polynomial
  const float c = std::min(std::max(x, kMin), kMax);
  // floor() by truncating a value made positive: truncation vectorises on every target, floor()
  // only where SSE4.1 exists. A NaN takes n = 0 here (converting it to int is undefined; UBSan
  // found it) and still reaches the polynomial through r.
  const float finite = c == c ? c : 0.0f;
  const int32_t n = static_cast<int32_t>(finite * kLog2e + 128.5f) - 128;
  const float nf = static_cast<float>(n);
  const float r = c - nf * kLn2Hi - nf * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float scale = bits_to_float(static_cast<uint32_t>(n + 127) << 23);
  return underflow ? 0.0f : p * scale;
}

inline float bf16_to_float(uint16_t bits) { return bits_to_float(static_cast<uint32_t>(bits) << 16); }

inline uint16_t float_to_bf16(float f) {
  const uint32_t bits = float_to_bits(f);
  const uint32_t rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
  const bool nan = (bits & 0x7FFFFFFFu) > 0x7F800000u;
  return static_cast<uint16_t>(nan ? (bits >> 16) | 0x40u : rounded >> 16);
}

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
