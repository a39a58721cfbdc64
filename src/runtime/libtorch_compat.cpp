#include "mmtrain/runtime/libtorch_compat.h"

#include <ATen/Functions.h>
#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#if MMTRAIN_LIBTORCH_2 && __has_include(<c10/cuda/CUDACachingAllocator.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define MMTRAIN_HAS_CUDA_ALLOCATOR 1
#endif

namespace mmtrain::compat {

std::string libtorch_version() { return TORCH_VERSION; }

std::optional<int64_t> cuda_peak_memory_bytes(int device) {
#ifdef MMTRAIN_HAS_CUDA_ALLOCATOR
  if (!torch::cuda::is_available() || device >= static_cast<int>(torch::cuda::device_count())) return std::nullopt;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
  return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
#else
  (void)device;
  return std::nullopt;
#endif
}

#if MMTRAIN_LIBTORCH_2

at::Tensor scaled_dot_product_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                        const at::Tensor& mask) {
  // An additive mask must have the query's dtype (bf16 under autocast).
  const auto attn_mask = mask.defined() ? std::optional<at::Tensor>(mask.to(q.scalar_type())) : std::nullopt;
  return at::scaled_dot_product_attention(q, k, v, attn_mask);
}

void fused_adamw(const FusedAdamWArgs& a) {
  // The kernel divides the gradients by grad_scale (a loss scaler's scale); ours multiplies.
  std::optional<at::Tensor> divide_by;
  if (a.grad_scale != 1.0) divide_by = at::full({}, 1.0 / a.grad_scale, a.params.front().options().dtype(at::kFloat));
  at::_fused_adamw_(a.params, a.grads, a.exp_avgs, a.exp_avg_sqs, {}, a.steps, a.lr, a.beta1, a.beta2, a.weight_decay,
                    a.eps, /*amsgrad=*/false, /*maximize=*/false, divide_by, std::nullopt);
}

bool autocast_enabled(c10::DeviceType device) { return at::autocast::is_autocast_enabled(device); }
void set_autocast_enabled(c10::DeviceType device, bool enabled) { at::autocast::set_autocast_enabled(device, enabled); }
at::ScalarType autocast_dtype(c10::DeviceType device) { return at::autocast::get_autocast_dtype(device); }
void set_autocast_dtype(c10::DeviceType device, at::ScalarType dtype) { at::autocast::set_autocast_dtype(device, dtype); }

#else

at::Tensor scaled_dot_product_attention(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&) {
  TORCH_CHECK(false, "scaled_dot_product_attention needs LibTorch 2.x (this build is ", TORCH_VERSION, ")");
}

void fused_adamw(const FusedAdamWArgs&) {
  TORCH_CHECK(false, "fused AdamW needs LibTorch 2.x (this build is ", TORCH_VERSION, ")");
}

bool autocast_enabled(c10::DeviceType device) {
  return device == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast_enabled(c10::DeviceType device, bool enabled) {
  device == c10::DeviceType::CUDA ? at::autocast::set_enabled(enabled) : at::autocast::set_cpu_enabled(enabled);
}
at::ScalarType autocast_dtype(c10::DeviceType device) {
  return device == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(c10::DeviceType device, at::ScalarType dtype) {
  device == c10::DeviceType::CUDA ? at::autocast::set_autocast_gpu_dtype(dtype) : at::autocast::set_autocast_cpu_dtype(dtype);
}

#endif

}  // namespace mmtrain::compat
