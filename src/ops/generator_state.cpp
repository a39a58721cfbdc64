#include "mmtrain/ops/generator_state.h"

#include <ATen/Context.h>

#include <mutex>

namespace mmtrain {

at::Tensor generator_state(c10::Device device) {
  auto generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(c10::Device device, const at::Tensor& state) {
  auto generator = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

GeneratorState GeneratorState::capture(c10::Device device) {
  GeneratorState state;
  state.device_ = device;
  state.cpu_ = generator_state(c10::Device(c10::kCPU));
  if (device.is_cuda()) state.device_state_ = generator_state(device);
  return state;
}

void GeneratorState::restore() const {
  set_generator_state(c10::Device(c10::kCPU), cpu_);
  if (device_state_.defined()) set_generator_state(device_, device_state_);
}

}  // namespace mmtrain
