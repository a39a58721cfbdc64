// Learning rate per optimizer step: linear warmup, then cosine decay to zero (open_clip's
// formulas) or constant.
#pragma once

#include <cstdint>

#include "mmtrain/config/config.h"

namespace mmtrain {

// step counts from 0; total_steps is the run's number of optimizer steps.
double learning_rate_at(int64_t step, int64_t total_steps, const OptimConfig& config);

}  // namespace mmtrain
