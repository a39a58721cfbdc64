// LayerNorm over fp32 rows whose result is rounded to bf16 (raw 16 bits) in the same pass, with
// AVX-512: the normalisation feeding a linear layer under CPU bf16 autocast, which would cast
// LibTorch's fp32 result to bf16 in a second pass anyway. LibTorch 1.13 takes ~0.34 ms forward
// and ~0.65 ms backward for a tiny ViT's [4160,128] on 2 threads. Statistics, affine transform
// and gradients are all fp32; the mean is taken first and the variance around it (two passes over
// a row that sits in L1). No LibTorch here.
#pragma once

#include <cstdint>

namespace mmtrain::layer_norm_bf16 {

// True when the CPU has AVX-512 (F, BW, VL) and AVX512-BF16; the others need it.
bool available();

// Rows of x [rows, width]: mean, rstd = 1 / sqrt(biased variance + eps) and
// y = (x - mean) rstd gamma + beta, rounded to nearest even.
void forward(const float* x, const float* gamma, const float* beta, int64_t rows, int64_t width, float eps,
             uint16_t* y, float* mean, float* rstd);

// With xhat = (x - mean) rstd and g = dy gamma: dx = rstd (g - mean(g) - xhat mean(g xhat)) per row;
// the rows' dy xhat are added into dgamma and their dy into dbeta ([width] each).
void backward(const float* x, const uint16_t* dy, const float* gamma, const float* mean, const float* rstd,
              int64_t rows, int64_t width, float* dx, float* dgamma, float* dbeta);

}  // namespace mmtrain::layer_norm_bf16
