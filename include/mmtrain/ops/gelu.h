// The exact (erf) GELU of a tensor, as torch::gelu (a name of its own: at::gelu is found by
// argument lookup). Bf16 CPU tensors (autocast's MLP activations) go through
// kernels/gelu_bf16.h, split over LibTorch's threads, where the CPU has AVX512-BF16; everything
// else through torch::gelu.
#pragma once

#include <ATen/core/Tensor.h>

namespace mmtrain {

at::Tensor gelu_erf(const at::Tensor& x);

}  // namespace mmtrain
