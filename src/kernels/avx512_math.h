// AVX-512 pieces shared by the bf16 CPU kernels (attention_amx.cpp, gelu_bf16.cpp,
// layer_norm_bf16.cpp, residual_bf16.cpp). Internal to src/: every function carries the target
// attribute, so a file that includes this header may be built for the baseline and call them only
// after checking the CPU (avx512_bf16_available()).
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_ps() as the merge source, which its own
// uninitialized-use warnings then flag at every call inlined into a target("avx512f") function.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define MMTRAIN_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

namespace mmtrain::avx512_math {

// AVX-512 F, BW, VL (with the OS saving their state) and AVX512-BF16.
bool avx512_bf16_available();

// A mask of the first `count` of 16 lanes (none for count <= 0).
MMTRAIN_AVX512 inline __mmask16 first_lanes(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF)
                     : static_cast<__mmask16>((1u << std::max<int64_t>(count, 0)) - 1);
}

// Round to nearest even into 16 bf16 (raw 16 bits), and widen them back exactly.
MMTRAIN_AVX512 inline __m256i round_to_bf16(__m512 x) { return reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(x)); }
MMTRAIN_AVX512 inline __m512 widen_bf16(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// e^x in 16 lanes: x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor polynomial to r^7 (relative
// error below 2e-7), 2^n by scalef. Exactly 0 below -87.3 (also for -inf); NaN stays NaN.
MMTRAIN_AVX512 inline __m512 exp16(__m512 x) {
  const __m512 lowest = _mm512_set1_ps(-87.3f);
  const __m512 c = _mm512_max_ps(lowest, x);  // max() returns its second operand for a NaN
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(c, _mm512_set1_ps(1.44269504f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), c);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  for (const float coefficient : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f}) {
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(coefficient));
  }
  return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, lowest, _CMP_NLT_UQ), _mm512_scalef_ps(p, n));
}

}  // namespace mmtrain::avx512_math
