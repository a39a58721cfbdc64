// Mixed precision for the forward pass: `train.precision: bf16` runs matmuls and convolutions in
// bfloat16 under LibTorch's autocast (on CPU through oneDNN, several times faster than fp32
// OpenBLAS here) while parameters, the residual stream, LayerNorm and the loss stay fp32.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace mmtrain {

// Throws ConfigError for a precision this device cannot run (fp16 needs CUDA).
void check_precision(const std::string& precision, c10::Device device);

// Autocast on for its lifetime when precision is bf16 or fp16; fp32 leaves everything as is.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, c10::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_ = c10::DeviceType::CPU;
  bool previous_ = false;
};

}  // namespace mmtrain
