#include "mmtrain/ops/dispatch.h"

#include <c10/core/impl/LocalDispatchKeySet.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "mmtrain/errors.h"
#include "mmtrain/kernels/attention_amx.h"
#include "mmtrain/kernels/gelu_bf16.h"
#include "mmtrain/kernels/layer_norm_bf16.h"
#include "mmtrain/kernels/residual_bf16.h"
#include "mmtrain/runtime/libtorch_compat.h"

namespace mmtrain::ops {

namespace {

// Process-wide, not per thread: an op may be called from LibTorch's worker threads.
std::atomic<int> libtorch_only_scopes{0};

bool kernels_allowed_by_environment() {
  static const bool allowed = [] {
    const char* value = std::getenv("MMTRAIN_KERNELS");
    const std::string setting = value == nullptr ? "" : value;
    if (!setting.empty() && setting != "on" && setting != "off") {
      throw ConfigError("MMTRAIN_KERNELS: '" + setting + "' is not one of: on, off");
    }
    return setting != "off";
  }();
  return allowed;
}

bool is_cpu_dense(const at::Tensor& x, at::ScalarType dtype) {
  return x.defined() && x.device().is_cpu() && x.scalar_type() == dtype && x.is_contiguous();
}

bool bf16_autocast_on_cpu() {
  return compat::autocast_enabled(c10::DeviceType::CPU) && compat::autocast_dtype(c10::DeviceType::CPU) == at::kBFloat16 &&
         !c10::impl::tls_is_dispatch_key_excluded(c10::DispatchKey::AutocastCPU);
}

}  // namespace

const char* impl_name(Impl impl) {
  switch (impl) {
    case Impl::libtorch: return "libtorch";
    case Impl::cpu_fused: return "cpu_fused";
    case Impl::cpu_avx512_bf16: return "cpu_avx512_bf16";
    case Impl::cpu_amx: return "cpu_amx";
    case Impl::cuda_sdpa: return "cuda_sdpa";
    case Impl::cuda_fused: return "cuda_fused";
  }
  return "unknown";
}

bool kernels_enabled() { return libtorch_only_scopes.load() == 0 && kernels_allowed_by_environment(); }

LibTorchOnlyScope::LibTorchOnlyScope() { ++libtorch_only_scopes; }
LibTorchOnlyScope::~LibTorchOnlyScope() { --libtorch_only_scopes; }

Impl attention_impl(const at::Tensor& q, const at::Tensor& kv, int64_t head_dim) {
  if (q.is_cuda() && kv.is_cuda() && compat::has_scaled_dot_product_attention()) return Impl::cuda_sdpa;
  const auto dtype = q.scalar_type();
  const bool fusable = q.device().is_cpu() && kv.device().is_cpu() && kv.scalar_type() == dtype &&
                       (dtype == at::kFloat || dtype == at::kBFloat16);
  if (!kernels_enabled() || !fusable) return Impl::libtorch;
  const bool tiles = dtype == at::kBFloat16 && attention_amx::supports_head_dim(head_dim) && attention_amx::available();
  return tiles ? Impl::cpu_amx : Impl::cpu_fused;
}

Impl attention_backward_impl(Impl forward, const at::Tensor& grad_out) {
  if (forward == Impl::cpu_amx && grad_out.scalar_type() != at::kBFloat16) return Impl::cpu_fused;
  return forward;
}

Impl gelu_impl(const at::Tensor& x) {
  const bool ours = kernels_enabled() && is_cpu_dense(x, at::kBFloat16) && gelu_bf16::available();
  return ours ? Impl::cpu_avx512_bf16 : Impl::libtorch;
}

Impl layer_norm_for_linear_impl(const at::Tensor& x, const at::Tensor& weight, bool affine, int64_t normalized_dims) {
  const bool ours = kernels_enabled() && bf16_autocast_on_cpu() && is_cpu_dense(x, at::kFloat) && x.numel() > 0 &&
                    normalized_dims == 1 && affine && weight.defined() && weight.scalar_type() == at::kFloat &&
                    layer_norm_bf16::available();
  return ours ? Impl::cpu_avx512_bf16 : Impl::libtorch;
}

Impl residual_impl(const at::Tensor& x, const at::Tensor& branch) {
  const bool ours = kernels_enabled() && is_cpu_dense(x, at::kFloat) && is_cpu_dense(branch, at::kBFloat16) &&
                    x.sizes() == branch.sizes() && residual_bf16::available();
  return ours ? Impl::cpu_avx512_bf16 : Impl::libtorch;
}

Impl adamw_impl(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                const at::Tensor& exp_avg_sq, bool amsgrad) {
  if (compat::has_fused_adamw() && !amsgrad && param.is_cuda() && grad.is_cuda() &&
      param.scalar_type() == at::kFloat && grad.scalar_type() == at::kFloat) {
    return Impl::cuda_fused;
  }
  const bool moments_fit = !exp_avg.defined() || (is_cpu_dense(exp_avg, at::kFloat) &&
                                                  is_cpu_dense(exp_avg_sq, at::kFloat));
  const bool ours = kernels_enabled() && !amsgrad && is_cpu_dense(param, at::kFloat) &&
                    is_cpu_dense(grad, at::kFloat) && moments_fit;
  return ours ? Impl::cpu_fused : Impl::libtorch;
}

Impl gradient_norm_impl(const at::TensorList& grads) {
  if (!kernels_enabled()) return Impl::libtorch;
  for (const auto& g : grads) {
    if (!is_cpu_dense(g, at::kFloat)) return Impl::libtorch;
  }
  return Impl::cpu_fused;
}

}  // namespace mmtrain::ops
