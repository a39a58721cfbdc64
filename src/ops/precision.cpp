#include "mmtrain/ops/precision.h"

#include <ATen/autocast_mode.h>

#include "mmtrain/errors.h"
#include "mmtrain/runtime/libtorch_compat.h"

namespace mmtrain {

void check_precision(const std::string& precision, c10::Device device) {
  if (precision == "fp16" && !device.is_cuda()) {
    throw ConfigError("train.precision: fp16 needs a CUDA device (on CPU use bf16)");
  }
}

AutocastScope::AutocastScope(const std::string& precision, c10::Device device)
    : active_(precision != "fp32"), device_type_(device.type()) {
  if (!active_) return;
  previous_ = compat::autocast_enabled(device_type_);
  compat::set_autocast_dtype(device_type_, precision == "fp16" ? at::kHalf : at::kBFloat16);
  compat::set_autocast_enabled(device_type_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Casted weight copies are cached per autocast region; drop them when the outermost one ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  compat::set_autocast_enabled(device_type_, previous_);
}

}  // namespace mmtrain
