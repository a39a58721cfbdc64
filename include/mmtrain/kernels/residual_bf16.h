// The residual add of a bf16 branch (a linear layer's output under CPU bf16 autocast) into the
// fp32 stream, in one pass with AVX-512. LibTorch 1.13 promotes the branch through a full fp32
// copy first: 0.30 ms for a tiny ViT's [4160,128] on 2 threads, of which the copy is 0.09.
// No LibTorch here.
#pragma once

#include <cstdint>

namespace mmtrain::residual_bf16 {

// True when the CPU has AVX-512 (F, BW, VL) and AVX512-BF16; add() needs it.
bool available();

// out = x + branch: the bf16 widened exactly, the sum rounded once in fp32.
void add(const float* x, const uint16_t* branch, float* out, int64_t n);

}  // namespace mmtrain::residual_bf16
