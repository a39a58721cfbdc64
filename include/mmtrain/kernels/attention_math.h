// The per-(batch, head) arithmetic of the CPU attention kernel (ops/attention.h), on
// plain float rows: no LibTorch here, so each piece is tested on its own against std::exp and a
// hand-computed softmax. Every row function is compiled for AVX-512, AVX2 and baseline x86-64 and
// picks one at load time, because Debian builds for the baseline and softmax is exp-bound.
#pragma once

#include <cstdint>

namespace mmtrain::attention_math {

// e^x within 2 float ulps for x in [-87, 88]; 0 below (so -inf masks give exactly 0).
float exp_approx(float x);
// dst[i] = e^src[i], the vectorised loop the softmax uses.
void exp_rows(const float* src, float* dst, int64_t n);

// In place, each of `rows` rows of `cols` (row stride `cols`): add `mask` row r (stride
// `mask_row_stride`, may be null), then softmax. A row whose every entry is -inf becomes zeros
// rather than NaNs.
void softmax_rows(float* s, int64_t rows, int64_t cols, const float* mask, int64_t mask_row_stride);

// In place on the probabilities' gradient: dp = p * (dp - sum_j p_j dp_j), row by row.
void softmax_backward_rows(const float* p, float* dp, int64_t rows, int64_t cols);

// Bf16 rows (raw 16 bits, `rows` x `cols`, row stride `row_stride`) widened into a dense float
// block, and a dense float block rounded back to nearest even (NaN stays NaN). Fp32 operands need
// neither: the GEMMs read and write them where they lie.
void load_rows(const uint16_t* src_bf16, int64_t row_stride, int64_t rows, int64_t cols, float* dst);
void store_rows(const float* src, int64_t rows, int64_t cols, uint16_t* dst_bf16, int64_t row_stride);

// Row-major C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C through the BLAS LibTorch uses;
// one call runs on the calling thread when it is inside a parallel region.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace mmtrain::attention_math
