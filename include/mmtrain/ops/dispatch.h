// Which implementation each op runs, decided here and nowhere else: by device, dtype, layout and
// the CPU's features. The ops (attention, GELU, LayerNorm-before-linear, residual add, AdamW) ask
// this file and run what it names; a CUDA implementation is one more Impl and one more case in
// the functions below. Every kernel has a plain LibTorch path beside it, forced for every op by
// MMTRAIN_KERNELS=off (read once, at the first op) or, in-process, by a LibTorchOnlyScope: the op
// tests run both and compare them.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace mmtrain::ops {

enum class Impl {
  libtorch,         // LibTorch's own operators, on any device: the reference for every kernel
  cpu_fused,        // one parallel pass of ours in fp32 (attention over BLAS GEMMs, AdamW)
  cpu_avx512_bf16,  // kernels/*_bf16: AVX-512 with AVX512-BF16
  cpu_amx,          // kernels/attention_amx: bf16 GEMMs on AMX tiles
  cuda_sdpa,        // LibTorch 2.x's scaled_dot_product_attention (flash / memory-efficient) on CUDA
  cuda_fused,       // LibTorch 2.x's fused multi-tensor kernel on CUDA (AdamW)
};

// "libtorch", "cpu_fused", ...: for logs and test names.
const char* impl_name(Impl impl);

// False under MMTRAIN_KERNELS=off or while a LibTorchOnlyScope lives; then every op takes
// Impl::libtorch. Any other value of MMTRAIN_KERNELS than "on", "off" or empty is a ConfigError.
bool kernels_enabled();

// Every op on LibTorch's path for its lifetime, in every thread (tests compare both paths).
class LibTorchOnlyScope {
 public:
  LibTorchOnlyScope();
  ~LibTorchOnlyScope();
  LibTorchOnlyScope(const LibTorchOnlyScope&) = delete;
  LibTorchOnlyScope& operator=(const LibTorchOnlyScope&) = delete;
};

// Attention of q [B,Tq,D] against k and v packed in kv [B,Tk,2D] (or q;k;v packed, kv == qkv),
// heads of head_dim: cpu_amx, cpu_fused or libtorch.
Impl attention_impl(const at::Tensor& q, const at::Tensor& kv, int64_t head_dim);
// The backward pass of attention that ran on `forward`: the tiles take a bf16 gradient only.
Impl attention_backward_impl(Impl forward, const at::Tensor& grad_out);
// Exact GELU of x: cpu_avx512_bf16 for contiguous bf16 CPU tensors, else libtorch.
Impl gelu_impl(const at::Tensor& x);
// LayerNorm over the last dim of x whose result feeds a linear layer: cpu_avx512_bf16 under CPU bf16
// autocast (not excluded) for a contiguous fp32 x and an fp32 affine norm over one dim, else libtorch.
Impl layer_norm_for_linear_impl(const at::Tensor& x, const at::Tensor& weight, bool affine, int64_t normalized_dims);
// x + branch: cpu_avx512_bf16 for a contiguous fp32 x and a bf16 branch of the same shape on the CPU.
Impl residual_impl(const at::Tensor& x, const at::Tensor& branch);
// AdamW over a parameter, its gradient and its two moments (undefined before the first step):
// cpu_fused when all are contiguous fp32 CPU tensors, else libtorch. amsgrad is LibTorch's alone.
Impl adamw_impl(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                const at::Tensor& exp_avg_sq, bool amsgrad);
// The global gradient norm over these gradients: cpu_fused when all are contiguous fp32 CPU tensors.
Impl gradient_norm_impl(const at::TensorList& grads);

}  // namespace mmtrain::ops
