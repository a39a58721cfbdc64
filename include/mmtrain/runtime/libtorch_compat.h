// Where LibTorch 1.13 (Debian's, the default build) and LibTorch 2.x (pip's torch, CPU and CUDA)
// differ, said once: the rest of mmtrain calls these and is written for both (docs/building.md).
// MMTRAIN_LIBTORCH_2 is 1 in a 2.x build.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

#include <optional>
#include <string>
#include <vector>

#define MMTRAIN_LIBTORCH_2 (TORCH_VERSION_MAJOR >= 2)

#if !MMTRAIN_LIBTORCH_2
#include <c10/util/string_utils.h>  // c10::guts::to_string, gone in 2.x
#endif

namespace mmtrain::compat {

// "1.13.1" or "2.11.0": what this binary was built against.
std::string libtorch_version();

// Autocast state per device type; 1.13 has one setter per backend, 2.x one per device type (the
// 1.13 names print deprecation warnings there).
bool autocast_enabled(c10::DeviceType device);
void set_autocast_enabled(c10::DeviceType device, bool enabled);
at::ScalarType autocast_dtype(c10::DeviceType device);
void set_autocast_dtype(c10::DeviceType device, at::ScalarType dtype);

// The key of a parameter's entry in torch::optim::Optimizer::state(): its TensorImpl address, as
// a string in 1.13 and as the pointer itself in 2.x. Checkpoints never store it (train/checkpoint).
inline auto optimizer_state_key(const at::Tensor& parameter) {
#if MMTRAIN_LIBTORCH_2
  return static_cast<void*>(parameter.unsafeGetTensorImpl());
#else
  return c10::guts::to_string(parameter.unsafeGetTensorImpl());
#endif
}

// Fused attention (flash, memory-efficient or cuDNN kernels on CUDA): LibTorch 2.x only.
// q, k, v: [B,H,T,Dh]; mask: additive, broadcastable to [B,H,Tq,Tk], or undefined.
constexpr bool has_scaled_dot_product_attention() { return MMTRAIN_LIBTORCH_2; }
at::Tensor scaled_dot_product_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                        const at::Tensor& mask);

// LibTorch 2.x's fused AdamW (at::_fused_adamw_, multi-tensor, CUDA): one call updates every
// tensor of a group in place. steps: the step number this update takes, as float scalars on the
// device. grad_scale multiplies the gradients first (clipping), as FusedAdamW::step_scaled's does.
constexpr bool has_fused_adamw() { return MMTRAIN_LIBTORCH_2; }
struct FusedAdamWArgs {
  std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
  double lr = 0, beta1 = 0, beta2 = 0, weight_decay = 0, eps = 0, grad_scale = 1;
};
void fused_adamw(const FusedAdamWArgs& args);

// The most memory LibTorch's CUDA allocator has held on that GPU, or nullopt without one (or in
// a build without CUDA).
std::optional<int64_t> cuda_peak_memory_bytes(int device);

}  // namespace mmtrain::compat
