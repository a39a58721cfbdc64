#include "mmtrain/kernels/residual_bf16.h"

#include "avx512_math.h"

namespace mmtrain::residual_bf16 {

namespace {

MMTRAIN_AVX512 void add_avx512(const float* x, const uint16_t* branch, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = avx512_math::first_lanes(n - i);
    const __m512 b = avx512_math::widen_bf16(_mm256_maskz_loadu_epi16(lanes, branch + i));
    _mm512_mask_storeu_ps(out + i, lanes, _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, x + i), b));
  }
}

}  // namespace

bool available() { return avx512_math::avx512_bf16_available(); }

void add(const float* x, const uint16_t* branch, float* out, int64_t n) { add_avx512(x, branch, out, n); }

}  // namespace mmtrain::residual_bf16
