#include "mmtrain/kernels/layer_norm_bf16.h"

#include <cmath>

#include "avx512_math.h"

namespace mmtrain::layer_norm_bf16 {

namespace {

using avx512_math::first_lanes;
using avx512_math::round_to_bf16;
using avx512_math::widen_bf16;

// Lanes of a row's 16-wide chunk at column c (the last one may be short; the others read as 0).
MMTRAIN_AVX512 __m512 load(const float* row, int64_t c, __mmask16 lanes) {
  return _mm512_maskz_loadu_ps(lanes, row + c);
}

MMTRAIN_AVX512 float row_mean(const float* x, int64_t width) {
  __m512 sum = _mm512_setzero_ps();
  for (int64_t c = 0; c < width; c += 16) sum = _mm512_add_ps(sum, load(x, c, first_lanes(width - c)));
  return _mm512_reduce_add_ps(sum) / static_cast<float>(width);
}

MMTRAIN_AVX512 float row_variance(const float* x, int64_t width, float mean) {
  __m512 sum = _mm512_setzero_ps();
  for (int64_t c = 0; c < width; c += 16) {
    const __mmask16 lanes = first_lanes(width - c);
    const __m512 d = _mm512_maskz_sub_ps(lanes, load(x, c, lanes), _mm512_set1_ps(mean));
    sum = _mm512_fmadd_ps(d, d, sum);
  }
  return _mm512_reduce_add_ps(sum) / static_cast<float>(width);
}

MMTRAIN_AVX512 void forward_row(const float* x, const float* gamma, const float* beta, int64_t width, float eps,
                                uint16_t* y, float* mean, float* rstd) {
  const float m = row_mean(x, width);
  const float r = 1.0f / std::sqrt(row_variance(x, width, m) + eps);
  *mean = m;
  *rstd = r;
  for (int64_t c = 0; c < width; c += 16) {
    const __mmask16 lanes = first_lanes(width - c);
    const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load(x, c, lanes), _mm512_set1_ps(m)), _mm512_set1_ps(r));
    const __m512 out = _mm512_fmadd_ps(xhat, load(gamma, c, lanes), load(beta, c, lanes));
    _mm256_mask_storeu_epi16(y + c, lanes, round_to_bf16(out));
  }
}

// One row's xhat and dy in a chunk.
struct Chunk {
  __m512 xhat;
  __m512 dy;
};

MMTRAIN_AVX512 Chunk chunk_at(const float* x, const uint16_t* dy, int64_t c, __mmask16 lanes, float mean, float rstd) {
  const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load(x, c, lanes), _mm512_set1_ps(mean)), _mm512_set1_ps(rstd));
  return {_mm512_maskz_mov_ps(lanes, xhat), widen_bf16(_mm256_maskz_loadu_epi16(lanes, dy + c))};
}

MMTRAIN_AVX512 void backward_row(const float* x, const uint16_t* dy, const float* gamma, float mean, float rstd,
                                 int64_t width, float* dx, float* dgamma, float* dbeta) {
  __m512 sum_g = _mm512_setzero_ps(), sum_g_xhat = _mm512_setzero_ps();
  for (int64_t c = 0; c < width; c += 16) {
    const __mmask16 lanes = first_lanes(width - c);
    const Chunk chunk = chunk_at(x, dy, c, lanes, mean, rstd);
    const __m512 g = _mm512_mul_ps(chunk.dy, load(gamma, c, lanes));
    sum_g = _mm512_add_ps(sum_g, g);
    sum_g_xhat = _mm512_fmadd_ps(g, chunk.xhat, sum_g_xhat);
  }
  const __m512 inv_width = _mm512_set1_ps(1.0f / static_cast<float>(width));
  const __m512 mean_g = _mm512_mul_ps(_mm512_set1_ps(_mm512_reduce_add_ps(sum_g)), inv_width);
  const __m512 mean_g_xhat = _mm512_mul_ps(_mm512_set1_ps(_mm512_reduce_add_ps(sum_g_xhat)), inv_width);
  for (int64_t c = 0; c < width; c += 16) {
    const __mmask16 lanes = first_lanes(width - c);
    const Chunk chunk = chunk_at(x, dy, c, lanes, mean, rstd);
    const __m512 g = _mm512_mul_ps(chunk.dy, load(gamma, c, lanes));
    const __m512 centred = _mm512_sub_ps(_mm512_fnmadd_ps(chunk.xhat, mean_g_xhat, g), mean_g);
    _mm512_mask_storeu_ps(dx + c, lanes, _mm512_mul_ps(centred, _mm512_set1_ps(rstd)));
    _mm512_mask_storeu_ps(dgamma + c, lanes, _mm512_fmadd_ps(chunk.dy, chunk.xhat, load(dgamma, c, lanes)));
    _mm512_mask_storeu_ps(dbeta + c, lanes, _mm512_add_ps(chunk.dy, load(dbeta, c, lanes)));
  }
}

}  // namespace

bool available() { return avx512_math::avx512_bf16_available(); }

void forward(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t width, float eps,
             uint16_t* y, float* mean, float* rstd) {
  for (int64_t i = 0; i < rows; ++i) {
    forward_row(x + i * width, gamma, beta, width, eps, y + i * width, mean + i, rstd + i);
  }
}

void backward(const float* x, const uint16_t* dy, const float* gamma, const float* mean, const float* rstd,
              int64_t rows, int64_t width, float* dx, float* dgamma, float* dbeta) {
  for (int64_t i = 0; i < rows; ++i) {
    backward_row(x + i * width, dy + i * width, gamma, mean[i], rstd[i], width, dx + i * width, dgamma, dbeta);
  }
}

}  // namespace mmtrain::layer_norm_bf16
