#include "mmtrain/models/activation_math.h"

#include "vector_kernels.h"

namespace mmtrain::activation_math {

namespace {

using vector_kernels::bf16_to_float;
using vector_kernels::exp_kernel;
using vector_kernels::float_to_bf16;

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

struct NormalAt {
  float cdf;      // Phi(x)
  float density;  // phi(x)
};

// Phi and phi from one exponential: A&S 7.1.26 writes erf(z) = 1 - poly(t) e^(-z^2) for z >= 0,
// and e^(-z^2) at z = x / sqrt 2 is e^(-x^2 / 2), phi's own exponential.
__attribute__((always_inline)) inline NormalAt normal_at(float x) {
  const float z = x * kInvSqrt2;
  const float az = z < 0.0f ? -z : z;
  const float t = 1.0f / (1.0f + 0.3275911f * az);
  float poly = 1.061405429f;
  poly = poly * t - 1.453152027f;
  poly = poly * t + 1.421413741f;
  poly = poly * t - 0.284496736f;
  poly = poly * t + 0.254829592f;
  poly = poly * t;
  const float e = exp_kernel(-z * z);
  const float erf_abs = 1.0f - poly * e;
  const float erf = z < 0.0f ? -erf_abs : erf_abs;
  return {0.5f * (1.0f + erf), kInvSqrt2Pi * e};
}

__attribute__((always_inline)) inline float gelu(float x) { return x * normal_at(x).cdf; }

__attribute__((always_inline)) inline float gelu_grad(float x, float dy) {
  const NormalAt n = normal_at(x);
  return dy * (n.cdf + x * n.density);
}

}  // namespace

float erf_approx(float x) { return 2.0f * normal_at(x / kInvSqrt2).cdf - 1.0f; }

MMTRAIN_VECTOR_CLONES void gelu_forward(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = gelu(x[i]);
}

MMTRAIN_VECTOR_CLONES void gelu_forward(const uint16_t* x_bf16, uint16_t* y_bf16, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y_bf16[i] = float_to_bf16(gelu(bf16_to_float(x_bf16[i])));
}

MMTRAIN_VECTOR_CLONES void gelu_backward(const float* x, const float* dy, float* dx, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = gelu_grad(x[i], dy[i]);
}

MMTRAIN_VECTOR_CLONES void gelu_backward(const uint16_t* x_bf16, const uint16_t* dy_bf16, uint16_t* dx_bf16,
                                         int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    dx_bf16[i] = float_to_bf16(gelu_grad(bf16_to_float(x_bf16[i]), bf16_to_float(dy_bf16[i])));
  }
}

}  // namespace mmtrain::activation_math
