// Bf16 attention for one (batch, head) on Intel AMX tiles (Sapphire Rapids and later), used by the
// CPU attention kernel (ops/attention.h) when it is handed bf16 under autocast. The fp32
// path widens every head to floats for BLAS; here the GEMMs take bf16 straight from the tensors
// and accumulate in fp32 in the tiles, as oneDNN does for the linear layers. Scores, softmax and
// its gradient stay fp32; the probabilities and the softmax gradient are rounded
// to bf16 only as GEMM operands, as autocast rounds them before a bf16 matmul. No LibTorch here.
#pragma once

#include <cstdint>
#include <vector>

namespace mmtrain::attention_amx {

// True when the CPU has AMX-BF16 (with AVX512-BF16) and Linux granted this process the tile state.
// Checked once; the other functions must only be called when it holds.
bool available();
// Head sizes the tiles take: a multiple of 32 (one tile row is 32 bf16).
bool supports_head_dim(int64_t head_dim);

// A bf16 matrix (raw 16 bits) in place: row r starts at data + r * row_stride.
struct Rows {
  const uint16_t* data;
  int64_t row_stride;
};
struct MutableRows {
  uint16_t* data;
  int64_t row_stride;
};

struct HeadShape {
  int64_t tq, tk, head_dim;
  float scale;  // 1/sqrt(head_dim), applied to the fp32 scores and to dq and dk
};

// Scratch for one thread, reused from head to head: padded operands, packed tiles, fp32 results.
// Every padded size is a multiple of 32 (a tile's depth).
struct Workspace {
  explicit Workspace(const HeadShape& shape);

  int64_t tq_pad, tk_pad;
  std::vector<uint16_t> rows, columns;        // an operand as rows [tq_pad,Dh], one as columns [Dh,tq_pad]
  std::vector<uint16_t> packed;               // a right-hand operand in tile order
  std::vector<uint16_t> probs_bf16, grad_bf16;  // [tq_pad,tk_pad]
  std::vector<float> result;                  // a product straight from the tiles
};

// probs [tq,tk] (dense fp32) = softmax(scale q k^T + mask); out rows = probs v. `mask` is fp32 rows
// of tk with stride mask_row_stride, or null.
void forward(const HeadShape& shape, Rows q, Rows k, Rows v, const float* mask, int64_t mask_row_stride,
             float* probs, MutableRows out, Workspace& ws);

// dq, dk, dv (shaped like q, k, v) from the forward's probabilities and the output's gradient.
void backward(const HeadShape& shape, Rows q, Rows k, Rows v, const float* probs, Rows grad_out, MutableRows dq,
              MutableRows dk, MutableRows dv, Workspace& ws);

}  // namespace mmtrain::attention_amx
