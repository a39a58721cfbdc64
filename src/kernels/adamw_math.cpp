#include "mmtrain/kernels/adamw_math.h"

#include <cmath>

// Built with -ffp-contract=off (every fused multiply-add below is LibTorch's, written out) and
// -fno-math-errno (so that sqrt vectorises; it never sees a negative here).
#define MMTRAIN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace mmtrain::adamw_math {

MMTRAIN_VECTOR_CLONES void update(float* param, float* exp_avg, float* exp_avg_sq, const float* grad, int64_t n,
                                  const StepConstants& c) {
  const float decay = c.decays ? c.decay : 1.0f;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i] * c.grad_scale;
    const float m = std::fma(g, c.one_minus_beta1, exp_avg[i] * c.beta1);        // LibTorch's add_(x, alpha)
    const float v = std::fma(c.one_minus_beta2 * g, g, exp_avg_sq[i] * c.beta2);  // its addcmul_
    const float denom = std::sqrt(v) / c.sqrt_bias_correction2 + c.eps;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = param[i] * decay + (c.neg_step_size * m) / denom;  // its addcdiv_
  }
}

MMTRAIN_VECTOR_CLONES double sum_of_squares(const float* x, int64_t n) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

}  // namespace mmtrain::adamw_math
