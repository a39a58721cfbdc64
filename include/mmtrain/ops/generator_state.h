// The global random generators' states, to draw the same numbers twice: a recomputation
// (activation checkpointing, accumulation's second pass) replays what the first pass drew, and
// leaves the streams where they were.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace mmtrain {

// One default generator's state (get_state / set_state under its lock): what checkpoints keep and
// a replay restores.
at::Tensor generator_state(c10::Device device);
void set_generator_state(c10::Device device, const at::Tensor& state);

class GeneratorState {
 public:
  // The CPU generator's state, and the device's own for a CUDA device.
  static GeneratorState capture(c10::Device device);
  void restore() const;

 private:
  c10::Device device_ = c10::kCPU;
  at::Tensor cpu_, device_state_;
};

// For its lifetime the generators are as `replayed` captured them; after, as they were before.
class ReplayedGenerators {
 public:
  explicit ReplayedGenerators(const GeneratorState& replayed, c10::Device device)
      : now_(GeneratorState::capture(device)) {
    replayed.restore();
  }
  ~ReplayedGenerators() { now_.restore(); }
  ReplayedGenerators(const ReplayedGenerators&) = delete;
  ReplayedGenerators& operator=(const ReplayedGenerators&) = delete;

 private:
  GeneratorState now_;
};

}  // namespace mmtrain
