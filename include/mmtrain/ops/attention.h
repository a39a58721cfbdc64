// Multi-head scaled dot-product attention. On the CPU it runs as one fused pass per (batch, head),
// split over LibTorch's threads: LibTorch 1.13 built without MKL (Debian's) loops over the batch of
// a bmm one small GEMM at a time on one thread, and the scores, softmax and permuted copies each
// take another pass over memory; together that was a quarter of a tiny ViT's training step. The
// fused pass reads q, k and v where the in-projection wrote them, keeps the probabilities (fp32)
// for the backward pass, and writes its result and gradients in place of the permute-and-copy.
// Bf16 inputs are computed in fp32 and rounded once on the way out, except on CPUs with AMX
// tiles, where heads whose size is a multiple of 32 take their GEMMs in bf16 (attention_amx.h:
// the forward pass 1.7x, the backward 1.3x faster on a tiny ViT's heads). Other devices use
// LibTorch's operators (attention_reference).
#pragma once

#include <ATen/core/Tensor.h>

namespace mmtrain {

// qkv [B,T,3D] packed q;k;v along the last dim (an in-projection's output), additive mask
// broadcastable to [B,H,T,T] or undefined -> [B,T,D]. The mask gets no gradient.
at::Tensor self_attention(const at::Tensor& qkv, const at::Tensor& mask, int64_t heads);

// q [B,Tq,D], kv [B,Tk,2D] packed k;v, mask broadcastable to [B,H,Tq,Tk] or undefined -> [B,Tq,D]
at::Tensor cross_attention(const at::Tensor& q, const at::Tensor& kv, const at::Tensor& mask, int64_t heads);

// The same arithmetic through LibTorch operators, on any device: q [B,Tq,D], k and v [B,Tk,D].
at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                               int64_t heads);

}  // namespace mmtrain
