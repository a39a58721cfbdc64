// Where training time goes: per progress interval (samples/s and the shares of data wait and
// all-reduce on each progress line) and over the timed steps after warm-up (the benchmark's split).
// Phase durations are recorded as the caller measured them and "now" comes from an injectable
// time source, so that the bookkeeping can be tested without sleeping.
#pragma once

#include <cstdint>
#include <functional>

namespace mmtrain {

// Where step time went, over a span of steps.
struct StepTiming {
  int64_t steps = 0;
  int64_t samples = 0;
  double seconds = 0.0;  // wall time of the span
  double data_wait = 0.0;
  double forward = 0.0;  // loss included
  double backward = 0.0;
  double allreduce = 0.0;  // gradient averaging across ranks (0 in one process)
  double optimizer = 0.0;  // gradient norm, clipping and the AdamW step
};

enum class StepPhase { kDataWait, kForward, kBackward, kAllreduce, kOptimizer };

// What one progress line reports; every value is 0 for an interval of no measurable length.
struct IntervalRates {
  double seconds = 0.0;
  double samples_per_s = 0.0;
  double data_wait_fraction = 0.0;  // of the interval's wall time
  double allreduce_fraction = 0.0;
};

class StepClock {
 public:
  // Seconds on a clock that never goes back; empty means std::chrono::steady_clock.
  using TimeSource = std::function<double()>;

  explicit StepClock(TimeSource now = {});

  double now() const { return now_(); }

  // Adds `seconds` spent in `phase` to the current interval and to the timed span.
  void add(StepPhase phase, double seconds);
  // Closes one step of `samples` samples. Skipped (non-finite) steps count too: their time was spent.
  void count_step(int64_t samples);

  // The next interval starts now (the training loop's start, after the model is built).
  void start_interval();
  // The rates of the interval since the previous call (or start_interval), which this ends: the
  // next one starts at once, from zero.
  IntervalRates end_interval();

  // Benchmarks leave warm-up out: the timed span restarts now, from zero. Until this is called it
  // spans everything since construction.
  void start_timed_span();
  StepTiming timed() const;  // up to now

  int64_t steps() const { return steps_; }  // since construction
  double seconds_since_start() const { return now_() - start_; }
  // Time to go for `steps_left` more steps at the average pace since construction.
  double eta_seconds(int64_t steps_left) const;

 private:
  TimeSource now_;
  double start_;
  double interval_start_;
  double timed_start_;
  int64_t steps_ = 0;
  StepTiming interval_;  // its `seconds` stays 0: measured when the interval ends
  StepTiming timed_;
};

}  // namespace mmtrain
