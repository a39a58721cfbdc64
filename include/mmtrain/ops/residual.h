// A residual connection: the stream plus a branch's output. Under CPU bf16 autocast the branch
// (a linear layer's output) is bf16 while the stream stays fp32; where the CPU has AVX512-BF16
// the two are added in one pass (kernels/residual_bf16.h) instead of through LibTorch's fp32 copy
// of the branch. The gradient is the same either way: the stream's as it comes, the branch's
// rounded to bf16.
#pragma once

#include <ATen/core/Tensor.h>

namespace mmtrain {

// x + branch, in x's dtype when x is fp32 and branch bf16 (type promotion's result).
at::Tensor add_residual(const at::Tensor& x, const at::Tensor& branch);

}  // namespace mmtrain
