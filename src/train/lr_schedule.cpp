#include "mmtrain/train/lr_schedule.h"

#include <cmath>

namespace mmtrain {

double learning_rate_at(int64_t step, int64_t total_steps, const OptimConfig& config) {
  if (step < config.warmup_steps) return config.lr * static_cast<double>(step + 1) / config.warmup_steps;
  if (config.schedule == "constant") return config.lr;
  const double decay_steps = static_cast<double>(total_steps - config.warmup_steps);
  if (decay_steps <= 0) return config.lr;
  const double progress = static_cast<double>(step - config.warmup_steps) / decay_steps;
  return 0.5 * (1.0 + std::cos(M_PI * progress)) * config.lr;
}

}  // namespace mmtrain
