#include "mmtrain/ops/attention.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <utility>
#include <vector>

#include "mmtrain/kernels/attention_amx.h"
#include "mmtrain/kernels/attention_math.h"
#include "mmtrain/ops/dispatch.h"
#include "mmtrain/runtime/libtorch_compat.h"

namespace mmtrain {

namespace {

namespace am = attention_math;
namespace amx = attention_amx;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The columns [index*width, (index+1)*width) of a packed [B,T,n*width] tensor.
at::Tensor packed_part(const at::Tensor& packed, int64_t index, int64_t width) {
  return packed.narrow(2, index * width, width);
}

// A head's rows as the GEMMs see them: a float pointer and its row stride.
struct Block {
  float* data;
  int64_t ld;
};

// One [B,T,H*Dh] operand (a view whose last dim is dense) seen head by head. Fp32 rows are used
// where they lie; bf16 rows are widened into the caller's scratch and rounded back on commit.
class HeadView {
 public:
  HeadView(const at::Tensor& x, int64_t head_dim)
      : bf16_(x.scalar_type() == at::kBFloat16),
        base_(static_cast<char*>(x.data_ptr())),
        batch_stride_(x.stride(0)),
        row_stride_(x.stride(1)),
        rows_(x.size(1)),
        head_dim_(head_dim) {}

  Block read(int64_t b, int64_t h, float* scratch) const {
    if (!bf16_) return {floats() + offset(b, h), row_stride_};
    am::load_rows(halves() + offset(b, h), row_stride_, rows_, head_dim_, scratch);
    return {scratch, head_dim_};
  }
  Block target(int64_t b, int64_t h, float* scratch) const {
    return bf16_ ? Block{scratch, head_dim_} : Block{floats() + offset(b, h), row_stride_};
  }
  void commit(int64_t b, int64_t h, const Block& block) const {
    if (bf16_) am::store_rows(block.data, rows_, head_dim_, halves() + offset(b, h), row_stride_);
  }
  // A bf16 operand's rows where they lie, for the AMX kernel.
  amx::Rows rows(int64_t b, int64_t h) const { return {halves() + offset(b, h), row_stride_}; }
  amx::MutableRows mutable_rows(int64_t b, int64_t h) const { return {halves() + offset(b, h), row_stride_}; }

 private:
  int64_t offset(int64_t b, int64_t h) const { return b * batch_stride_ + h * head_dim_; }
  float* floats() const { return reinterpret_cast<float*>(base_); }
  uint16_t* halves() const { return reinterpret_cast<uint16_t*>(base_); }

  bool bf16_;
  char* base_;
  int64_t batch_stride_, row_stride_, rows_, head_dim_;
};

// The additive mask as fp32 broadcast to [B,H,Tq,Tk]; rows of (b, h) or null without a mask.
struct MaskView {
  at::Tensor mask;

  MaskView(const at::Tensor& m, int64_t batch, int64_t heads, int64_t tq, int64_t tk) {
    if (!m.defined()) return;
    TORCH_CHECK(!m.requires_grad(), "attention: the additive mask gets no gradient, but it requires one");
    mask = m.to(at::kFloat).expand({batch, heads, tq, tk});
    if (mask.stride(3) != 1) mask = mask.contiguous();
  }
  const float* rows(int64_t b, int64_t h) const {
    return mask.defined() ? mask.data_ptr<float>() + b * mask.stride(0) + h * mask.stride(1) : nullptr;
  }
  int64_t row_stride() const { return mask.defined() ? mask.stride(2) : 0; }
};

// Function::apply tracks every Tensor argument as a variable and an undefined one breaks it; the
// mask (constant, often absent) travels wrapped.
struct MaskArgument {
  at::Tensor mask;
};

struct Operands {
  at::Tensor q, k, v;  // [B,Tq,D], [B,Tk,D], [B,Tk,D], last dim dense
  int64_t heads;
  ops::Impl impl;  // cpu_fused or cpu_amx (ops/dispatch.h)

  int64_t batch() const { return q.size(0); }
  int64_t head_dim() const { return q.size(2) / heads; }
  float scale() const { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim()))); }
  bool on_tiles() const { return impl == ops::Impl::cpu_amx; }
  amx::HeadShape head_shape() const { return {q.size(1), k.size(1), head_dim(), scale()}; }
};

// f(scratch, i, b, h) for every (batch, head) i = b * heads + h, split over LibTorch's threads;
// each task makes its own scratch once.
template <typename MakeScratch, typename F>
void for_each_head(const Operands& in, MakeScratch make_scratch, F f) {
  at::parallel_for(0, in.batch() * in.heads, 1, [&](int64_t begin, int64_t end) {
    auto scratch = make_scratch();
    for (int64_t i = begin; i < end; ++i) f(scratch, i, i / in.heads, i % in.heads);
  });
}

// -> probabilities [B,H,Tq,Tk] fp32; writes out [B,Tq,D]. The 1/sqrt(Dh) scale rides on the
// GEMMs' alpha instead of a pass over q.
at::Tensor fused_forward(const Operands& in, const at::Tensor& mask_in, const at::Tensor& out) {
  const int64_t tq = in.q.size(1), tk = in.k.size(1), dh = in.head_dim();
  const float scale = in.scale();
  const MaskView mask(mask_in, in.batch(), in.heads, tq, tk);
  auto probs = at::empty({in.batch(), in.heads, tq, tk}, in.q.options().dtype(at::kFloat));
  float* probs_data = probs.data_ptr<float>();
  const HeadView q(in.q, dh), k(in.k, dh), v(in.v, dh), o(out, dh);
  if (in.on_tiles()) {
    const amx::HeadShape shape = in.head_shape();
    for_each_head(in, [&] { return amx::Workspace(shape); },
                  [&](amx::Workspace& ws, int64_t i, int64_t b, int64_t h) {
                    amx::forward(shape, q.rows(b, h), k.rows(b, h), v.rows(b, h), mask.rows(b, h),
                                 mask.row_stride(), probs_data + i * tq * tk, o.mutable_rows(b, h), ws);
                  });
    return probs;
  }
  for_each_head(in, [&] { return std::vector<float>(tq * dh * 2 + tk * dh * 2); },
                [&](std::vector<float>& scratch, int64_t i, int64_t b, int64_t h) {
                  float *qs = scratch.data(), *os = qs + tq * dh, *ks = os + tq * dh, *vs = ks + tk * dh;
                  const Block qb = q.read(b, h, qs), kb = k.read(b, h, ks), vb = v.read(b, h, vs);
                  const Block ob = o.target(b, h, os);
                  float* p = probs_data + i * tq * tk;
                  am::gemm(false, true, tq, tk, dh, scale, qb.data, qb.ld, kb.data, kb.ld, 0.0f, p, tk);  // scores
                  am::softmax_rows(p, tq, tk, mask.rows(b, h), mask.row_stride());
                  am::gemm(false, false, tq, dh, tk, 1.0f, p, tk, vb.data, vb.ld, 0.0f, ob.data, ob.ld);
                  o.commit(b, h, ob);
                });
  return probs;
}

// Writes dq, dk, dv (shaped like q, k, v) from the output's gradient [B,Tq,D].
void fused_backward(const Operands& in, const at::Tensor& probs, const at::Tensor& grad_out, const Operands& grad) {
  const int64_t tq = in.q.size(1), tk = in.k.size(1), dh = in.head_dim();
  const float scale = in.scale();
  const float* probs_data = probs.data_ptr<float>();
  const HeadView q(in.q, dh), k(in.k, dh), v(in.v, dh), go(grad_out, dh);
  const HeadView dq(grad.q, dh), dk(grad.k, dh), dv(grad.v, dh);
  if (ops::attention_backward_impl(in.impl, grad_out) == ops::Impl::cpu_amx) {
    const amx::HeadShape shape = in.head_shape();
    for_each_head(in, [&] { return amx::Workspace(shape); },
                  [&](amx::Workspace& ws, int64_t i, int64_t b, int64_t h) {
                    amx::backward(shape, q.rows(b, h), k.rows(b, h), v.rows(b, h), probs_data + i * tq * tk,
                                  go.rows(b, h), dq.mutable_rows(b, h), dk.mutable_rows(b, h),
                                  dv.mutable_rows(b, h), ws);
                  });
    return;
  }
  for_each_head(in, [&] { return std::vector<float>(tq * dh * 3 + tk * dh * 4 + tq * tk); },
                [&](std::vector<float>& scratch, int64_t i, int64_t b, int64_t h) {
                  float *qs = scratch.data(), *gs = qs + tq * dh, *dqs = gs + tq * dh, *ks = dqs + tq * dh;
                  float *vs = ks + tk * dh, *dks = vs + tk * dh, *dvs = dks + tk * dh, *ds = dvs + tk * dh;
                  const float* p = probs_data + i * tq * tk;
                  const Block qb = q.read(b, h, qs), kb = k.read(b, h, ks), vb = v.read(b, h, vs);
                  const Block gb = go.read(b, h, gs);
                  const Block dqb = dq.target(b, h, dqs), dkb = dk.target(b, h, dks), dvb = dv.target(b, h, dvs);
                  am::gemm(true, false, tk, dh, tq, 1.0f, p, tk, gb.data, gb.ld, 0.0f, dvb.data, dvb.ld);  // P^T dO
                  am::gemm(false, true, tq, tk, dh, 1.0f, gb.data, gb.ld, vb.data, vb.ld, 0.0f, ds, tk);   // dO V^T
                  am::softmax_backward_rows(p, ds, tq, tk);
                  am::gemm(false, false, tq, dh, tk, scale, ds, tk, kb.data, kb.ld, 0.0f, dqb.data, dqb.ld);
                  am::gemm(true, false, tk, dh, tq, scale, ds, tk, qb.data, qb.ld, 0.0f, dkb.data, dkb.ld);
                  dq.commit(b, h, dqb);
                  dk.commit(b, h, dkb);
                  dv.commit(b, h, dvb);
                });
}

// BLAS wants dense rows and a row stride of at least a row (an expanded gradient has 0).
at::Tensor gemm_ready(const at::Tensor& x) {
  return x.stride(2) == 1 && x.stride(1) >= x.size(2) ? x : x.contiguous();
}

// The output in q's dtype (bf16 under autocast), batch-major like q.
at::Tensor output_like(const at::Tensor& q) { return at::empty({q.size(0), q.size(1), q.size(2)}, q.options()); }

// The head count and the implementation the forward pass ran, for the backward pass.
void save_shape(AutogradContext* ctx, int64_t heads, ops::Impl impl) {
  ctx->saved_data["heads"] = heads;
  ctx->saved_data["impl"] = static_cast<int64_t>(impl);
}
std::pair<int64_t, ops::Impl> saved_shape(AutogradContext* ctx) {
  return {ctx->saved_data["heads"].toInt(), static_cast<ops::Impl>(ctx->saved_data["impl"].toInt())};
}

struct SelfAttentionFunction : public torch::autograd::Function<SelfAttentionFunction> {
  static Operands operands(const at::Tensor& qkv, int64_t heads, ops::Impl impl) {
    const int64_t width = qkv.size(2) / 3;
    return {packed_part(qkv, 0, width), packed_part(qkv, 1, width), packed_part(qkv, 2, width), heads, impl};
  }
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& qkv, const MaskArgument& mask, int64_t heads,
                            ops::Impl impl) {
    const Operands in = operands(qkv, heads, impl);
    auto out = output_like(in.q);
    ctx->save_for_backward({qkv, fused_forward(in, mask.mask, out)});
    save_shape(ctx, heads, impl);
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto [heads, impl] = saved_shape(ctx);
    auto grad_qkv = at::empty_like(saved[0]);  // every column is written: q, k and v tile it
    fused_backward(operands(saved[0], heads, impl), saved[1], gemm_ready(grads[0]), operands(grad_qkv, heads, impl));
    return {grad_qkv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct CrossAttentionFunction : public torch::autograd::Function<CrossAttentionFunction> {
  static Operands operands(const at::Tensor& q, const at::Tensor& kv, int64_t heads, ops::Impl impl) {
    const int64_t width = q.size(2);
    return {q, packed_part(kv, 0, width), packed_part(kv, 1, width), heads, impl};
  }
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& kv, const MaskArgument& mask,
                            int64_t heads, ops::Impl impl) {
    const Operands in = operands(q, kv, heads, impl);
    auto out = output_like(q);
    ctx->save_for_backward({q, kv, fused_forward(in, mask.mask, out)});
    save_shape(ctx, heads, impl);
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto [heads, impl] = saved_shape(ctx);
    auto grad_q = at::empty_like(saved[0]), grad_kv = at::empty_like(saved[1]);
    fused_backward(operands(saved[0], saved[1], heads, impl), saved[2], gemm_ready(grads[0]),
                   operands(grad_q, grad_kv, heads, impl));
    return {grad_q, grad_kv, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

void check_width(const at::Tensor& x, int64_t parts, int64_t heads, const char* what) {
  TORCH_CHECK(x.dim() == 3, "attention: ", what, " must be [B,T,D], got ", x.sizes());
  TORCH_CHECK(x.size(2) % (parts * heads) == 0, "attention: ", what, " width ", x.size(2), " is not ", parts,
              " x heads (", heads, ") x head size");
}

}  // namespace

at::Tensor attention_reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                               int64_t heads) {
  const int64_t head_dim = q.size(2) / heads;
  auto split_heads = [&](const at::Tensor& x) {  // [B,T,D] -> [B,H,T,Dh]
    return x.view({x.size(0), x.size(1), heads, head_dim}).transpose(1, 2);
  };
  auto scores = at::matmul(split_heads(q) * (1.0 / std::sqrt(static_cast<double>(head_dim))),
                           split_heads(k).transpose(-2, -1));  // [B,H,Tq,Tk]
  if (mask.defined()) scores = scores + mask;
  auto context = at::matmul(at::softmax(scores, -1), split_heads(v));  // [B,H,Tq,Dh]
  return context.transpose(1, 2).reshape(q.sizes());
}

namespace {

// LibTorch 2.x's fused attention (CUDA), given [B,T,D] operands.
at::Tensor attention_sdpa(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                          int64_t heads) {
  const int64_t head_dim = q.size(2) / heads;
  auto split_heads = [&](const at::Tensor& x) {  // [B,T,D] -> [B,H,T,Dh]
    return x.view({x.size(0), x.size(1), heads, head_dim}).transpose(1, 2);
  };
  const auto context = compat::scaled_dot_product_attention(split_heads(q), split_heads(k), split_heads(v), mask);
  return context.transpose(1, 2).reshape(q.sizes());  // [B,H,Tq,Dh] -> [B,Tq,D]
}

}  // namespace

at::Tensor self_attention(const at::Tensor& qkv, const at::Tensor& mask, int64_t heads) {
  check_width(qkv, 3, heads, "packed q;k;v");
  const int64_t width = qkv.size(2) / 3;
  const auto impl = ops::attention_impl(qkv, qkv, width / heads);
  if (impl == ops::Impl::cuda_sdpa) {
    return attention_sdpa(packed_part(qkv, 0, width), packed_part(qkv, 1, width), packed_part(qkv, 2, width), mask,
                          heads);
  }
  if (impl != ops::Impl::libtorch) return SelfAttentionFunction::apply(gemm_ready(qkv), MaskArgument{mask}, heads, impl);
  return attention_reference(packed_part(qkv, 0, width), packed_part(qkv, 1, width), packed_part(qkv, 2, width), mask,
                             heads);
}

at::Tensor cross_attention(const at::Tensor& q, const at::Tensor& kv, const at::Tensor& mask, int64_t heads) {
  check_width(q, 1, heads, "q");
  check_width(kv, 2, heads, "packed k;v");
  TORCH_CHECK(kv.size(2) == 2 * q.size(2) && kv.size(0) == q.size(0), "attention: q ", q.sizes(),
              " and packed k;v ", kv.sizes(), " disagree");
  const int64_t width = q.size(2);
  const auto impl = ops::attention_impl(q, kv, width / heads);
  if (impl == ops::Impl::cuda_sdpa) {
    return attention_sdpa(q, packed_part(kv, 0, width), packed_part(kv, 1, width), mask, heads);
  }
  if (impl != ops::Impl::libtorch) {
    return CrossAttentionFunction::apply(gemm_ready(q), gemm_ready(kv), MaskArgument{mask}, heads, impl);
  }
  return attention_reference(q, packed_part(kv, 0, width), packed_part(kv, 1, width), mask, heads);
}

}  // namespace mmtrain
