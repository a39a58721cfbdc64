#include "mmtrain/ops/precision.h"

#include <ATen/autocast_mode.h>

#include "mmtrain/errors.h"

namespace mmtrain {

void check_precision(const std::string& precision, c10::Device device) {
  if (precision == "fp16" && !device.is_cuda()) {
    throw ConfigError("train.precision: fp16 needs a CUDA device (on CPU use bf16)");
  }
  if (precision == "fp16") {
    throw ConfigError("train.precision: fp16 needs loss scaling, not available yet (use bf16)");
  }
}

AutocastScope::AutocastScope(const std::string& precision, c10::Device device)
    : active_(precision != "fp32"), cuda_(device.is_cuda()) {
  if (!active_) return;
  const auto dtype = precision == "fp16" ? at::kHalf : at::kBFloat16;
  if (cuda_) {
    previous_ = at::autocast::is_enabled();
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(true);
  } else {
    previous_ = at::autocast::is_cpu_enabled();
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Casted weight copies are cached per autocast region; drop them when the outermost one ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(previous_);
  } else {
    at::autocast::set_cpu_enabled(previous_);
  }
}

}  // namespace mmtrain
