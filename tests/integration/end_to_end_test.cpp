// A short real training run on the built-in data: the loss must fall and zero-shot accuracy on
// the colour-shape classes must beat chance (1/24) by a wide margin.
#include <gtest/gtest.h>

#include "mmtrain/train/trainer.h"
#include "support/metrics.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"

namespace mmtrain {
namespace {

TEST(EndToEnd, ShortTrainingLowersTheLossAndBeatsChanceAtZeroShot) {
  test::TempDir dir;
  const auto data = test::write_tiny_data(dir.path().string(), 1280, 5);
  Config config = test::tiny_config(dir.path().string(), data, 160);
  config.model.vision.width = config.model.text.width = 64;
  config.model.embed_dim = 64;
  config.train.batch_size = 64;
  config.optim.warmup_steps = 20;
  const TrainSummary summary = train(config, TrainOptions{});

  const auto losses = test::train_losses(dir.path().string() + "/runs/tiny/metrics.jsonl");
  double first = 0, last = 0;
  for (int64_t step = 1; step <= 10; ++step) first += losses.at(step) / 10;
  for (int64_t step = 151; step <= 160; ++step) last += losses.at(step) / 10;
  EXPECT_LT(last, 0.6 * first) << "first 10 steps " << first << ", last 10 " << last;

  const double chance = 1.0 / 24;
  EXPECT_GT(summary.eval.at("zeroshot/top1"), 4 * chance);
  EXPECT_GT(summary.eval.at("retrieval/image_to_text_R@10"), 10.0 / 48);
}

}  // namespace
}  // namespace mmtrain
