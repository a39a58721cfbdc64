// fp16's dynamic loss scaling, as PyTorch's GradScaler does it: the loss is multiplied by `scale`
// before backward so that small gradients survive fp16; the optimizer step divides it out again.
// A step whose gradients overflow (non-finite) is skipped and halves the scale; every
// growth_interval finite steps in a row double it. bf16 and fp32 need none: scale stays 1.
#pragma once

#include <cstdint>

namespace mmtrain {

struct LossScalerOptions {
  double init_scale = 65536.0;  // 2^16, GradScaler's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class LossScaler {
 public:
  // enabled: train.precision is fp16.
  explicit LossScaler(bool enabled, LossScalerOptions options = {});

  bool enabled() const { return enabled_; }
  // What the loss is multiplied by before backward (1 when disabled).
  double scale() const { return scale_; }
  // After backward: the gradients' norm was finite (the step goes ahead) or not (skipped).
  void update(bool finite);

  // Finite steps since the scale last changed; with scale(), what a checkpoint keeps
  // (train/checkpoint.h) so that a resumed fp16 run scales as the unbroken one.
  int64_t growth_tracker() const { return growth_tracker_; }
  void restore(double scale, int64_t growth_tracker);

 private:
  bool enabled_;
  LossScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;  // finite steps since the last change of scale
};

}  // namespace mmtrain
