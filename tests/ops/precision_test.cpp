#include "mmtrain/ops/precision.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/errors.h"
#include "mmtrain/train/trainer.h"
#include "support/metrics.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"

namespace mmtrain {
namespace {

TEST(Precision, Bf16AutocastRunsMatmulsInBf16) {
  torch::nn::Linear linear(8, 4);
  const auto x = torch::randn({2, 8});
  {
    AutocastScope autocast("bf16", torch::kCPU);
    EXPECT_EQ(linear(x).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(linear(x).scalar_type(), torch::kFloat);  // off again after the scope
}

TEST(Precision, Fp16IsRefusedOnCpuWithTheKey) {
  try {
    check_precision("fp16", torch::kCPU);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("train.precision: fp16 needs a CUDA device"), std::string::npos);
  }
}

// The same 40 steps in fp32 and bf16: the bf16 loss stays within 5% of fp32's at every step
// (bf16 keeps 8 bits of mantissa; parameters, LayerNorm, projections and the loss stay fp32).
TEST(Precision, Bf16LossCurveTracksFp32) {
  test::TempDir dir;
  const auto data = test::write_tiny_data(dir.path().string(), 320, 1);
  auto run = [&](const std::string& precision) {
    Config c = test::tiny_config(dir.path().string(), data, 40);
    c.run.name = precision;
    c.train.precision = precision;
    c.eval = EvalConfig{};
    train(c, TrainOptions{});
    return test::train_losses(dir.path().string() + "/runs/" + precision + "/metrics.jsonl");
  };
  const auto fp32 = run("fp32");
  const auto bf16 = run("bf16");
  ASSERT_EQ(fp32.size(), 40u);
  ASSERT_EQ(bf16.size(), 40u);
  double worst = 0;
  for (const auto& [step, loss] : fp32) worst = std::max(worst, std::abs(bf16.at(step) - loss) / loss);
  EXPECT_LT(worst, 0.05);
  EXPECT_LT(fp32.at(40), 0.8 * fp32.at(1));  // and the curve being tracked is a falling one
}

}  // namespace
}  // namespace mmtrain
