// The per-element arithmetic of FusedAdamW (ops/fused_adamw.h) on plain float arrays, in the
// order and with the roundings of LibTorch 1.13's vectorised AdamW kernels (a fused multiply-add
// where those use one, separate roundings elsewhere), so that both give the same bits. No
// LibTorch here; compiled for AVX-512, AVX2 and baseline x86-64, one picked at load time.
#pragma once

#include <cstdint>

namespace mmtrain::adamw_math {

// A parameter's constants for one step, computed in double as LibTorch does and rounded to float.
struct StepConstants {
  bool decays;             // weight decay is not 0
  float decay;             // 1 - lr * weight_decay
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float sqrt_bias_correction2;  // sqrt(1 - beta2^step)
  float eps;
  float neg_step_size;  // -lr / (1 - beta1^step)
  float grad_scale;     // gradient clipping's factor, 1 when not clipping
};

// In place over n elements:
//   g = grad * grad_scale; param *= decay; exp_avg = exp_avg * beta1 + (1 - beta1) g;
//   exp_avg_sq = exp_avg_sq * beta2 + (1 - beta2) g g;
//   param += (neg_step_size * exp_avg) / (sqrt(exp_avg_sq) / sqrt_bias_correction2 + eps)
void update(float* param, float* exp_avg, float* exp_avg_sq, const float* grad, int64_t n, const StepConstants& c);

// sum x_i^2 in double.
double sum_of_squares(const float* x, int64_t n);

}  // namespace mmtrain::adamw_math
