#include "mmtrain/kernels/gelu_bf16.h"

#include "avx512_math.h"

namespace mmtrain::gelu_bf16 {

namespace {

using avx512_math::exp16;
using avx512_math::first_lanes;
using avx512_math::round_to_bf16;
using avx512_math::widen_bf16;

struct Normal {
  __m512 cdf;      // Phi(x)
  __m512 density;  // phi(x)
};

// With z = x / sqrt 2: erf(|z|) = 1 - poly(t) e^(-z^2), t = 1 / (1 + p |z|) (A&S 7.1.26), so
// Phi(x) = 1 - poly e / 2 for x >= 0 and poly e / 2 below, and phi(x) = e / sqrt(2 pi).
MMTRAIN_AVX512 Normal normal_at(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(0.70710678f));
  // |z| capped at 10, where e^(-z^2) is already 0: keeps t finite for infinite x.
  const __m512 abs_z = _mm512_min_ps(_mm512_abs_ps(z), _mm512_set1_ps(10.0f));
  const __m512 denominator = _mm512_fmadd_ps(abs_z, _mm512_set1_ps(0.3275911f), one);
  __m512 t = _mm512_rcp14_ps(denominator);
  t = _mm512_mul_ps(t, _mm512_fnmadd_ps(denominator, t, _mm512_set1_ps(2.0f)));  // Newton: 2^-28
  __m512 poly = _mm512_set1_ps(1.061405429f);
  for (const float coefficient : {-1.453152027f, 1.421413741f, -0.284496736f, 0.254829592f}) {
    poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(coefficient));
  }
  const __m512 e = exp16(_mm512_mul_ps(_mm512_mul_ps(z, z), _mm512_set1_ps(-1.0f)));
  const __m512 tail = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(poly, t), e), _mm512_set1_ps(0.5f));
  const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
  return {_mm512_mask_blend_ps(negative, _mm512_sub_ps(one, tail), tail),
          _mm512_mul_ps(e, _mm512_set1_ps(0.39894228f))};
}

MMTRAIN_AVX512 __m512 load(const uint16_t* p, __mmask16 lanes) { return widen_bf16(_mm256_maskz_loadu_epi16(lanes, p)); }

MMTRAIN_AVX512 void store(uint16_t* p, __mmask16 lanes, __m512 x) {
  _mm256_mask_storeu_epi16(p, lanes, round_to_bf16(x));
}

MMTRAIN_AVX512 void forward_avx512(const uint16_t* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = first_lanes(n - i);
    const __m512 v = load(x + i, lanes);
    store(y + i, lanes, _mm512_mul_ps(v, normal_at(v).cdf));
  }
}

MMTRAIN_AVX512 void backward_avx512(const uint16_t* x, const uint16_t* dy, uint16_t* dx, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = first_lanes(n - i);
    const __m512 v = load(x + i, lanes);
    const Normal normal = normal_at(v);
    store(dx + i, lanes, _mm512_mul_ps(load(dy + i, lanes), _mm512_fmadd_ps(v, normal.density, normal.cdf)));
  }
}

}  // namespace

bool available() { return avx512_math::avx512_bf16_available(); }

void forward(const uint16_t* x, uint16_t* y, int64_t n) { forward_avx512(x, y, n); }

void backward(const uint16_t* x, const uint16_t* dy, uint16_t* dx, int64_t n) { backward_avx512(x, dy, dx, n); }

}  // namespace mmtrain::gelu_bf16
