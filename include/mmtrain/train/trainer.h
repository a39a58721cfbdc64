// The training loop: data, model, loss, AdamW with warmup + cosine, clipping, metrics, progress,
// checkpoints, evaluation, and resuming exactly where a run stopped.
#pragma once

#include <string>

#include "mmtrain/config/config.h"
#include "mmtrain/eval/evaluate.h"
#include "mmtrain/train/accumulation.h"
#include "mmtrain/train/step_clock.h"

namespace mmtrain {

struct TrainOptions {
  std::string resume;  // "" (a new run), "latest", or a checkpoint path
  // > 0: checkpoint and return after this step, as an interruption would (time-boxed jobs,
  // resume tests); the schedule still spans the whole run.
  int64_t stop_at_step = 0;
  // Benchmarking: the first `untimed_steps` steps warm up and are left out of TrainSummary::timing.
  int64_t untimed_steps = 0;
  bool save_final_checkpoint = true;
  // Benchmarking: every step takes one batch of random tensors made on the training device
  // (train/synthetic_batches.h) instead of the loader's.
  bool synthetic_batches = false;
};

struct TrainSummary {
  std::string run_dir;
  int64_t steps = 0;
  double last_loss = 0.0;
  Metrics eval;  // the final evaluation (empty without eval data)
  StepTiming timing;  // over the steps after TrainOptions::untimed_steps
};

// Throws ConfigError for a run folder that exists without `resume`, DataError for unreadable
// data, StopRequested after checkpointing on SIGINT/SIGTERM.
TrainSummary train(const Config& config, const TrainOptions& options);

}  // namespace mmtrain
