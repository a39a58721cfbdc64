#include "mmtrain/train/step_clock.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace mmtrain {

namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double share(double part, double whole) { return whole > 0 ? part / whole : 0.0; }

double& phase_seconds(StepTiming& timing, StepPhase phase) {
  switch (phase) {
    case StepPhase::kDataWait:
      return timing.data_wait;
    case StepPhase::kForward:
      return timing.forward;
    case StepPhase::kBackward:
      return timing.backward;
    case StepPhase::kAllreduce:
      return timing.allreduce;
    case StepPhase::kOptimizer:
      return timing.optimizer;
  }
  return timing.optimizer;  // unreachable: every enumerator is handled above
}

}  // namespace

StepClock::StepClock(TimeSource now)
    : now_(now ? std::move(now) : TimeSource(steady_seconds)),
      start_(now_()),
      interval_start_(start_),
      timed_start_(start_) {}

void StepClock::add(StepPhase phase, double seconds) {
  phase_seconds(interval_, phase) += seconds;
  phase_seconds(timed_, phase) += seconds;
}

void StepClock::count_step(int64_t samples) {
  ++steps_;
  for (StepTiming* span : {&interval_, &timed_}) {
    ++span->steps;
    span->samples += samples;
  }
}

void StepClock::start_interval() {
  interval_ = StepTiming{};
  interval_start_ = now_();
}

IntervalRates StepClock::end_interval() {
  const double now = now_();
  IntervalRates rates;
  rates.seconds = now - interval_start_;
  rates.samples_per_s = share(static_cast<double>(interval_.samples), rates.seconds);
  rates.data_wait_fraction = share(interval_.data_wait, rates.seconds);
  rates.allreduce_fraction = share(interval_.allreduce, rates.seconds);
  interval_ = StepTiming{};
  interval_start_ = now;
  return rates;
}

void StepClock::start_timed_span() {
  timed_ = StepTiming{};
  timed_start_ = now_();
}

StepTiming StepClock::timed() const {
  StepTiming timing = timed_;
  timing.seconds = now_() - timed_start_;
  return timing;
}

double StepClock::eta_seconds(int64_t steps_left) const {
  return static_cast<double>(steps_left) * seconds_since_start() / static_cast<double>(std::max<int64_t>(1, steps_));
}

}  // namespace mmtrain
