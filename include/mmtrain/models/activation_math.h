// The exact (erf) GELU and its derivative over plain arrays, fp32 or bf16 (raw 16 bits, computed
// in fp32 and rounded once): the loops behind models/fused_gelu.h, without LibTorch so that they
// are tested on their own. LibTorch 1.13 spent 1.5 ms per 2M bf16 elements each way.
#pragma once

#include <cstdint>

namespace mmtrain::activation_math {

// erf within 1.5e-7 absolute (Abramowitz & Stegun 7.1.26), so GELU within 1e-7 |x|.
float erf_approx(float x);

// y = x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2
void gelu_forward(const float* x, float* y, int64_t n);
void gelu_forward(const uint16_t* x_bf16, uint16_t* y_bf16, int64_t n);

// dx = dy * (Phi(x) + x * phi(x)), phi the standard normal density
void gelu_backward(const float* x, const float* dy, float* dx, int64_t n);
void gelu_backward(const uint16_t* x_bf16, const uint16_t* dy_bf16, uint16_t* dx_bf16, int64_t n);

}  // namespace mmtrain::activation_math
