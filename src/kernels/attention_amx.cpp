#include "mmtrain/kernels/attention_amx.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "avx512_math.h"

// The file is built for the baseline: only these functions use AVX-512 and AMX, and only after
// available() said the CPU and the kernel allow them.
#define MMTRAIN_AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512bf16")))

namespace mmtrain::attention_amx {

namespace {

using avx512_math::exp16;
using avx512_math::first_lanes;
using avx512_math::round_to_bf16;

// A tile is 16 rows of 64 bytes: 16 x 32 bf16 as a left operand, 16 pairs-of-rows x 16 columns as
// a packed right operand, 16 x 16 fp32 as a result.
constexpr int64_t kTile = 16;
constexpr int64_t kDepth = 32;
constexpr int64_t kPackedTile = kTile * kDepth;

int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

bool cpu_has_amx_bf16() {
  if (!avx512_math::avx512_bf16_available()) return false;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
  return (d >> 22 & 1u) != 0 && (d >> 24 & 1u) != 0;  // AMX-BF16, AMX-TILE
}

// Linux (5.16+) hands out the 8 KB tile state only to a process that asks for it.
bool kernel_grants_tiles() {
  constexpr long kArchRequestPermission = 0x1023;  // ARCH_REQ_XCOMP_PERM
  constexpr long kTileData = 18;                    // XFEATURE_XTILEDATA
  return syscall(SYS_arch_prctl, kArchRequestPermission, kTileData) == 0;
}

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// Tiles 0-3 accumulate a 32x32 result block, 4-5 hold left operands, 6-7 right ones. The tile
// state is released on the way out: oneDNN's kernels configure their own on the same threads.
struct TileScope {
  MMTRAIN_AMX TileScope() {
    TileConfig config;
    for (int t = 0; t < 8; ++t) {
      config.bytes_per_row[t] = 64;
      config.rows[t] = kTile;
    }
    // GCC 12's _tile_loadconfig() does not tell the optimiser that it reads the whole struct, and
    // the row sizes were dropped as dead stores; an asm operand on the struct keeps them.
    asm volatile("ldtilecfg %0" : : "m"(config));
  }
  MMTRAIN_AMX ~TileScope() { _tile_release(); }
  TileScope(const TileScope&) = delete;
  TileScope& operator=(const TileScope&) = delete;
};

// c[m,n] (fp32, row stride ldc) = a[m,k] (bf16 rows, stride lda) * b[k,n] packed by pack_*();
// m, n and k are multiples of 32.
MMTRAIN_AMX void tile_gemm(const uint16_t* a, int64_t lda, const uint16_t* packed_b, int64_t m, int64_t n, int64_t k,
                           float* c, int64_t ldc) {
  asm volatile("" ::: "memory");  // tile loads are asm the compiler cannot see reading memory
  const int64_t depth_tiles = k / kDepth, a_stride = lda * 2, c_stride = ldc * 4;
  for (int64_t i = 0; i < m; i += 2 * kTile) {
    for (int64_t j = 0; j < n; j += 2 * kTile) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      const uint16_t* b0 = packed_b + (j / kTile) * depth_tiles * kPackedTile;
      const uint16_t* b1 = b0 + depth_tiles * kPackedTile;
      for (int64_t d = 0; d < depth_tiles; ++d) {
        _tile_loadd(4, a + i * lda + d * kDepth, a_stride);
        _tile_loadd(5, a + (i + kTile) * lda + d * kDepth, a_stride);
        _tile_loadd(6, b0 + d * kPackedTile, 64);
        _tile_loadd(7, b1 + d * kPackedTile, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      _tile_stored(0, c + i * ldc + j, c_stride);
      _tile_stored(1, c + i * ldc + j + kTile, c_stride);
      _tile_stored(2, c + (i + kTile) * ldc + j, c_stride);
      _tile_stored(3, c + (i + kTile) * ldc + j + kTile, c_stride);
    }
  }
}

// 16 bf16 of row r from column n0 (the lanes in `columns`) in the low half; zeros past the last row.
MMTRAIN_AMX __m512i load_columns(Rows src, int64_t r, int64_t rows, int64_t n0, __mmask16 columns) {
  return r < rows ? _mm512_maskz_loadu_epi16(columns, src.data + r * src.row_stride + n0) : _mm512_setzero_si512();
}

// Right operand b[k,n] = src row k, column n (zero past k_valid, n_valid), packed for the tiles:
// tile (n/16, k/32) holds rows k, k+1 interleaved, each 16 columns wide.
MMTRAIN_AMX void pack_from_k_rows(Rows src, int64_t k_valid, int64_t n_valid, int64_t k_pad, int64_t n_pad,
                                  uint16_t* dst) {
  alignas(64) uint16_t order[32];
  for (int c = 0; c < 16; ++c) {
    order[2 * c] = static_cast<uint16_t>(c);
    order[2 * c + 1] = static_cast<uint16_t>(32 + c);  // lane c of the second source
  }
  const __m512i interleave = _mm512_load_si512(order);
  const int64_t depth_tiles = k_pad / kDepth;
  for (int64_t n0 = 0; n0 < n_pad; n0 += kTile) {
    const __mmask16 columns = first_lanes(n_valid - n0);
    for (int64_t d = 0; d < depth_tiles; ++d) {
      uint16_t* tile = dst + (n0 / kTile * depth_tiles + d) * kPackedTile;
      for (int64_t p = 0; p < kTile; ++p) {
        const int64_t r = d * kDepth + 2 * p;
        const __m512i even = load_columns(src, r, k_valid, n0, columns);
        const __m512i odd = load_columns(src, r + 1, k_valid, n0, columns);
        _mm512_storeu_si512(tile + p * kDepth, _mm512_permutex2var_epi16(even, interleave, odd));
      }
    }
  }
}

// Lane c holds c * step: the offsets of the 16 rows a gather reads, in the units of its scale.
MMTRAIN_AMX __m512i lane_offsets(int64_t step) {
  return _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                            _mm512_set1_epi32(static_cast<int>(step)));
}

// Byte offsets of 16 consecutive bf16 rows.
MMTRAIN_AMX __m512i row_offsets(int64_t stride) { return lane_offsets(stride * 2); }

// The 32-bit pairs (row r0 + c, bf16 columns col, col + 1) for c < 16, zero past `rows`.
MMTRAIN_AMX __m512i gather_pairs(Rows src, int64_t r0, int64_t rows, int64_t col, __m512i offsets) {
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), first_lanes(rows - r0), offsets,
                                     src.data + r0 * src.row_stride + col, 1);
}

// Right operand b[k,n] = src row n, column k (b = src^T; rows past n_valid are zero, every k is
// valid), packed as above: a transpose of 32-bit pairs, one gather per tile row.
MMTRAIN_AMX void pack_from_n_rows(Rows src, int64_t n_valid, int64_t k, int64_t n_pad, uint16_t* dst) {
  const int64_t depth_tiles = k / kDepth;
  const __m512i offsets = row_offsets(src.row_stride);
  for (int64_t n0 = 0; n0 < n_pad; n0 += kTile) {
    for (int64_t d = 0; d < depth_tiles; ++d) {
      uint16_t* tile = dst + (n0 / kTile * depth_tiles + d) * kPackedTile;
      for (int64_t p = 0; p < kTile; ++p) {
        _mm512_storeu_si512(tile + p * kDepth, gather_pairs(src, n0, n_valid, d * kDepth + 2 * p, offsets));
      }
    }
  }
}

// Left operand as rows: dst [rows_pad, cols] dense, zero rows past `rows`.
void copy_rows(Rows src, int64_t rows, int64_t cols, int64_t rows_pad, uint16_t* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(dst + r * cols, src.data + r * src.row_stride, cols * sizeof(uint16_t));
  }
  std::fill(dst + rows * cols, dst + rows_pad * cols, uint16_t{0});
}

// Left operand as columns: dst [cols, rows_pad] = src^T, zero past `rows`. Two gathers bring 32
// rows' pairs of columns (c, c + 1); their low halves are column c, their high halves c + 1.
MMTRAIN_AMX void copy_columns(Rows src, int64_t rows, int64_t cols, int64_t rows_pad, uint16_t* dst) {
  alignas(64) uint16_t low[32], high[32];
  for (int l = 0; l < 16; ++l) {
    low[l] = static_cast<uint16_t>(2 * l);
    low[16 + l] = static_cast<uint16_t>(32 + 2 * l);
    high[l] = static_cast<uint16_t>(2 * l + 1);
    high[16 + l] = static_cast<uint16_t>(33 + 2 * l);
  }
  const __m512i take_low = _mm512_load_si512(low), take_high = _mm512_load_si512(high);
  const __m512i offsets = row_offsets(src.row_stride);
  for (int64_t r0 = 0; r0 < rows_pad; r0 += 2 * kTile) {
    for (int64_t c = 0; c < cols; c += 2) {
      const __m512i first = gather_pairs(src, r0, rows, c, offsets);
      const __m512i second = gather_pairs(src, r0 + kTile, rows, c, offsets);
      _mm512_storeu_si512(dst + c * rows_pad + r0, _mm512_permutex2var_epi16(first, take_low, second));
      _mm512_storeu_si512(dst + (c + 1) * rows_pad + r0, _mm512_permutex2var_epi16(first, take_high, second));
    }
  }
}

// dst [rows_pad, cols_pad] bf16 (row stride cols_pad) = src [rows, cols] fp32 dense, zero-padded.
MMTRAIN_AMX void round_padded(const float* src, int64_t rows, int64_t cols, int64_t rows_pad, int64_t cols_pad,
                              uint16_t* dst) {
  for (int64_t r = 0; r < rows_pad; ++r) {
    for (int64_t c = 0; c < cols_pad; c += 16) {
      const __mmask16 lanes = r < rows ? first_lanes(cols - c) : 0;
      const __m512 x = _mm512_maskz_loadu_ps(lanes, src + r * cols + c);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + r * cols_pad + c), round_to_bf16(x));
    }
  }
}

// dst rows (bf16) = scale * c [rows, cols] (fp32, row stride ldc); cols is a multiple of 16.
MMTRAIN_AMX void store_rows(const float* c, int64_t ldc, int64_t rows, int64_t cols, float scale, MutableRows dst) {
  const __m512 factor = _mm512_set1_ps(scale);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; j += 16) {
      const __m512 x = _mm512_mul_ps(_mm512_loadu_ps(c + r * ldc + j), factor);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst.data + r * dst.row_stride + j), round_to_bf16(x));
    }
  }
}

// dst rows (bf16) = scale * c^T: c is [cols, >= rows] fp32 (row stride ldc); cols a multiple of 16.
MMTRAIN_AMX void store_columns(const float* c, int64_t ldc, int64_t rows, int64_t cols, float scale, MutableRows dst) {
  const __m512 factor = _mm512_set1_ps(scale);
  const __m512i down = lane_offsets(ldc);  // floats, gathered with scale 4
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < cols; j += 16) {
      const __m512 column = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xFFFF, down, c + j * ldc + r, 4);
      const __m512 x = _mm512_mul_ps(column, factor);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst.data + r * dst.row_stride + j), round_to_bf16(x));
    }
  }
}

// One row of raw scores s (fp32, scratch, at least cols_pad wide): probs = softmax(scale s + mask)
// over `cols`, written dense (fp32, kept for backward) and as bf16 zero-padded to cols_pad (the
// next GEMM's operand). A row whose every entry is -inf gives zeros, not NaNs.
MMTRAIN_AMX void softmax_row(float* s, int64_t cols, int64_t cols_pad, float scale, const float* mask, float* probs,
                             uint16_t* probs_bf16) {
  const __m512 factor = _mm512_set1_ps(scale), minus_inf = _mm512_set1_ps(-__builtin_inff());
  __m512 max = minus_inf;
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 lanes = first_lanes(cols - j);
    __m512 x = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, s + j), factor);
    if (mask != nullptr) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(lanes, mask + j));
    x = _mm512_mask_blend_ps(lanes, minus_inf, x);
    _mm512_storeu_ps(s + j, x);
    max = _mm512_max_ps(max, x);
  }
  const float row_max = _mm512_reduce_max_ps(max);
  const __m512 shift = _mm512_set1_ps(row_max == -__builtin_inff() ? 0.0f : row_max);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < cols; j += 16) {
    const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(s + j), shift));
    _mm512_storeu_ps(s + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  const float total = _mm512_reduce_add_ps(sum);
  const __m512 inverse = _mm512_set1_ps(total > 0.0f || total != total ? 1.0f / total : 0.0f);
  for (int64_t j = 0; j < cols_pad; j += 16) {
    const __mmask16 lanes = first_lanes(cols - j);
    const __m512 p = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, s + j), inverse);
    _mm512_mask_storeu_ps(probs + j, lanes, p);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(probs_bf16 + j), round_to_bf16(_mm512_maskz_mov_ps(lanes, p)));
  }
}

// ds = p (dp - sum_j p_j dp_j) over `cols`, as bf16 zero-padded to cols_pad.
MMTRAIN_AMX void softmax_backward_row(const float* p, const float* dp, int64_t cols, int64_t cols_pad, uint16_t* ds) {
  __m512 dot = _mm512_setzero_ps();
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 lanes = first_lanes(cols - j);
    dot = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, p + j), _mm512_maskz_loadu_ps(lanes, dp + j), dot);
  }
  const __m512 shift = _mm512_set1_ps(_mm512_reduce_add_ps(dot));
  for (int64_t j = 0; j < cols_pad; j += 16) {
    const __mmask16 lanes = first_lanes(cols - j);
    const __m512 g = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, p + j),
                                   _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, dp + j), shift));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(ds + j), round_to_bf16(_mm512_maskz_mov_ps(lanes, g)));
  }
}

}  // namespace

bool available() {
  static const bool granted = cpu_has_amx_bf16() && kernel_grants_tiles();
  return granted;
}

bool supports_head_dim(int64_t head_dim) { return head_dim > 0 && head_dim % kDepth == 0; }

Workspace::Workspace(const HeadShape& shape)
    : tq_pad(round_up(shape.tq, kDepth)),
      tk_pad(round_up(shape.tk, kDepth)),
      rows(tq_pad * shape.head_dim),
      columns(shape.head_dim * tq_pad),
      packed(std::max(tk_pad * shape.head_dim, tq_pad * tk_pad)),
      probs_bf16(tq_pad * tk_pad),
      grad_bf16(tq_pad * tk_pad),
      result(std::max(tq_pad, shape.head_dim) * std::max(tk_pad, shape.head_dim)) {}

void forward(const HeadShape& shape, Rows q, Rows k, Rows v, const float* mask, int64_t mask_row_stride,
             float* probs, MutableRows out, Workspace& ws) {
  const int64_t tq = shape.tq, tk = shape.tk, dh = shape.head_dim, tqp = ws.tq_pad, tkp = ws.tk_pad;
  const TileScope tiles;
  copy_rows(q, tq, dh, tqp, ws.rows.data());
  pack_from_n_rows(k, tk, dh, tkp, ws.packed.data());  // k^T
  tile_gemm(ws.rows.data(), dh, ws.packed.data(), tqp, tkp, dh, ws.result.data(), tkp);
  for (int64_t i = 0; i < tq; ++i) {
    const float* mask_row = mask == nullptr ? nullptr : mask + i * mask_row_stride;
    softmax_row(ws.result.data() + i * tkp, tk, tkp, shape.scale, mask_row, probs + i * tk,
                ws.probs_bf16.data() + i * tkp);
  }
  std::fill(ws.probs_bf16.begin() + tq * tkp, ws.probs_bf16.end(), uint16_t{0});
  pack_from_k_rows(v, tk, dh, tkp, dh, ws.packed.data());
  tile_gemm(ws.probs_bf16.data(), tkp, ws.packed.data(), tqp, dh, tkp, ws.result.data(), dh);
  store_rows(ws.result.data(), dh, tq, dh, 1.0f, out);
}

// dk and dv come out transposed (dk^T = q^T ds, dv^T = dout^T p): their left operands are then
// the small [Dh,Tq] transposes rather than the square probabilities.
void backward(const HeadShape& shape, Rows q, Rows k, Rows v, const float* probs, Rows grad_out, MutableRows dq,
              MutableRows dk, MutableRows dv, Workspace& ws) {
  const int64_t tq = shape.tq, tk = shape.tk, dh = shape.head_dim, tqp = ws.tq_pad, tkp = ws.tk_pad;
  const TileScope tiles;
  float* result = ws.result.data();
  copy_rows(grad_out, tq, dh, tqp, ws.rows.data());
  pack_from_n_rows(v, tk, dh, tkp, ws.packed.data());  // v^T
  tile_gemm(ws.rows.data(), dh, ws.packed.data(), tqp, tkp, dh, result, tkp);  // dp = dout v^T
  for (int64_t i = 0; i < tq; ++i) {
    softmax_backward_row(probs + i * tk, result + i * tkp, tk, tkp, ws.grad_bf16.data() + i * tkp);  // ds
  }
  std::fill(ws.grad_bf16.begin() + tq * tkp, ws.grad_bf16.end(), uint16_t{0});

  pack_from_k_rows(k, tk, dh, tkp, dh, ws.packed.data());
  tile_gemm(ws.grad_bf16.data(), tkp, ws.packed.data(), tqp, dh, tkp, result, dh);
  store_rows(result, dh, tq, dh, shape.scale, dq);

  copy_columns(q, tq, dh, tqp, ws.columns.data());
  pack_from_k_rows({ws.grad_bf16.data(), tkp}, tqp, tkp, tqp, tkp, ws.packed.data());
  tile_gemm(ws.columns.data(), tqp, ws.packed.data(), dh, tkp, tqp, result, tkp);
  store_columns(result, tkp, tk, dh, shape.scale, dk);

  copy_columns(grad_out, tq, dh, tqp, ws.columns.data());
  round_padded(probs, tq, tk, tqp, tkp, ws.probs_bf16.data());
  pack_from_k_rows({ws.probs_bf16.data(), tkp}, tqp, tkp, tqp, tkp, ws.packed.data());
  tile_gemm(ws.columns.data(), tqp, ws.packed.data(), dh, tkp, tqp, result, tkp);
  store_columns(result, tkp, tk, dh, 1.0f, dv);
}

}  // namespace mmtrain::attention_amx
