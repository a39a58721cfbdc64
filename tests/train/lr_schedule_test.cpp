#include "mmtrain/train/lr_schedule.h"

#include <cmath>

#include <gtest/gtest.h>

namespace mmtrain {
namespace {

OptimConfig schedule(const std::string& kind) {
  OptimConfig config;
  config.lr = 1.0;
  config.warmup_steps = 10;
  config.schedule = kind;
  return config;
}

TEST(LearningRate, WarmsUpLinearlyFromLrOverWarmupSteps) {
  EXPECT_DOUBLE_EQ(learning_rate_at(0, 110, schedule("cosine")), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate_at(4, 110, schedule("cosine")), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate_at(9, 110, schedule("cosine")), 1.0);
}

TEST(LearningRate, CosineDecaysFromLrToZeroAfterWarmup) {
  EXPECT_DOUBLE_EQ(learning_rate_at(10, 110, schedule("cosine")), 1.0);
  EXPECT_NEAR(learning_rate_at(60, 110, schedule("cosine")), 0.5, 1e-12);
  EXPECT_NEAR(learning_rate_at(35, 110, schedule("cosine")), 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-12);
  EXPECT_NEAR(learning_rate_at(110, 110, schedule("cosine")), 0.0, 1e-12);
}

TEST(LearningRate, ConstantStaysAtLrAfterWarmup) {
  EXPECT_DOUBLE_EQ(learning_rate_at(50, 110, schedule("constant")), 1.0);
}

}  // namespace
}  // namespace mmtrain
