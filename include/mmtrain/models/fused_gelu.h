// The exact (erf) GELU. On the CPU in bf16 it runs as one pass each way computed in fp32
// (models/activation_math.h): LibTorch 1.13's bf16 GELU and its backward took 1.5-1.8 ms per 2M
// elements on 2 threads, a tenth of the tiny ViT's bf16 step. Fp32 and other devices use LibTorch's.
#pragma once

#include <ATen/core/Tensor.h>

namespace mmtrain {

at::Tensor fused_gelu(const at::Tensor& x);

}  // namespace mmtrain
