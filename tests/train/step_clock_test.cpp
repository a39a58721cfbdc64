#include "mmtrain/train/step_clock.h"

#include <gtest/gtest.h>

namespace mmtrain {
namespace {

// A clock the test moves by hand: every duration below is exact, none is measured.
struct ManualTime {
  double seconds = 100.0;
  StepClock::TimeSource source() {
    return [this] { return seconds; };
  }
};

TEST(StepClock, IntervalRatesCoverTheStepsSinceTheLastProgressLine) {
  ManualTime time;
  StepClock clock(time.source());
  clock.count_step(32);
  clock.count_step(32);
  time.seconds += 4.0;

  const IntervalRates rates = clock.end_interval();

  EXPECT_DOUBLE_EQ(rates.seconds, 4.0);
  EXPECT_DOUBLE_EQ(rates.samples_per_s, 16.0);
}

TEST(StepClock, EndingAnIntervalStartsTheNextFromZero) {
  ManualTime time;
  StepClock clock(time.source());
  clock.add(StepPhase::kDataWait, 1.0);
  clock.count_step(100);
  time.seconds += 2.0;
  clock.end_interval();

  clock.count_step(10);
  time.seconds += 5.0;
  const IntervalRates next = clock.end_interval();

  EXPECT_DOUBLE_EQ(next.seconds, 5.0);
  EXPECT_DOUBLE_EQ(next.samples_per_s, 2.0);
  EXPECT_DOUBLE_EQ(next.data_wait_fraction, 0.0);
}

TEST(StepClock, DataWaitAndAllreduceAreSharesOfTheIntervalWallTime) {
  ManualTime time;
  StepClock clock(time.source());
  clock.add(StepPhase::kDataWait, 0.5);
  clock.add(StepPhase::kAllreduce, 0.25);
  clock.add(StepPhase::kDataWait, 0.5);
  clock.count_step(8);
  time.seconds += 4.0;

  const IntervalRates rates = clock.end_interval();

  EXPECT_DOUBLE_EQ(rates.data_wait_fraction, 0.25);
  EXPECT_DOUBLE_EQ(rates.allreduce_fraction, 0.0625);
}

// The loop's start, not the clock's construction, begins the first interval: building the model
// is not training time.
TEST(StepClock, StartingAnIntervalLeavesOutTimeAndWorkBeforeIt) {
  ManualTime time;
  StepClock clock(time.source());
  clock.add(StepPhase::kDataWait, 3.0);
  time.seconds += 10.0;
  clock.start_interval();
  clock.count_step(6);
  time.seconds += 3.0;

  const IntervalRates rates = clock.end_interval();

  EXPECT_DOUBLE_EQ(rates.seconds, 3.0);
  EXPECT_DOUBLE_EQ(rates.samples_per_s, 2.0);
  EXPECT_DOUBLE_EQ(rates.data_wait_fraction, 0.0);
}

TEST(StepClock, AnIntervalOfNoLengthReportsZeroRatherThanInfinity) {
  ManualTime time;
  StepClock clock(time.source());
  clock.add(StepPhase::kDataWait, 1.0);
  clock.count_step(32);

  const IntervalRates rates = clock.end_interval();

  EXPECT_EQ(rates.seconds, 0.0);
  EXPECT_EQ(rates.samples_per_s, 0.0);
  EXPECT_EQ(rates.data_wait_fraction, 0.0);
}

TEST(StepClock, TimedSpanLeavesOutWarmUpAndOutlivesProgressIntervals) {
  ManualTime time;
  StepClock clock(time.source());
  clock.add(StepPhase::kForward, 9.0);  // warm-up
  clock.count_step(32);
  time.seconds += 10.0;
  clock.start_timed_span();

  for (int step = 0; step < 3; ++step) {
    clock.add(StepPhase::kDataWait, 0.1);
    clock.add(StepPhase::kForward, 0.2);
    clock.add(StepPhase::kBackward, 0.4);
    clock.add(StepPhase::kAllreduce, 0.05);
    clock.add(StepPhase::kOptimizer, 0.15);
    clock.count_step(32);
    time.seconds += 1.0;
    clock.end_interval();  // a progress line every step
  }
  const StepTiming timed = clock.timed();

  EXPECT_EQ(timed.steps, 3);
  EXPECT_EQ(timed.samples, 96);
  EXPECT_DOUBLE_EQ(timed.seconds, 3.0);
  // Sums of three equal additions: exact to a few ulps, not bit-exact.
  EXPECT_NEAR(timed.data_wait, 0.3, 1e-12);
  EXPECT_NEAR(timed.forward, 0.6, 1e-12);
  EXPECT_NEAR(timed.backward, 1.2, 1e-12);
  EXPECT_NEAR(timed.allreduce, 0.15, 1e-12);
  EXPECT_NEAR(timed.optimizer, 0.45, 1e-12);
}

TEST(StepClock, EtaExtrapolatesThePaceSinceConstruction) {
  ManualTime time;
  StepClock clock(time.source());
  for (int step = 0; step < 4; ++step) clock.count_step(1);
  time.seconds += 8.0;

  EXPECT_EQ(clock.steps(), 4);
  EXPECT_DOUBLE_EQ(clock.seconds_since_start(), 8.0);
  EXPECT_DOUBLE_EQ(clock.eta_seconds(10), 20.0);
}

}  // namespace
}  // namespace mmtrain
