#include "mmtrain/train/trainer.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "mmtrain/errors.h"
#include "support/metrics.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"

namespace mmtrain {
namespace {

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override { data_ = test::write_tiny_data(dir_.path().string(), 160, 1); }
  Config config(int64_t steps, const std::string& name) {
    Config c = test::tiny_config(dir_.path().string(), data_, steps);
    c.run.name = name;
    c.eval = EvalConfig{};  // no evaluation: these tests are about the loop
    return c;
  }
  std::string metrics(const std::string& name) {
    return (dir_.path() / "runs" / name / "metrics.jsonl").string();
  }

  test::TempDir dir_;
  std::string data_;
};

// 160 pairs in batches of 32: 5 batches per epoch, so 12 steps cross two epoch boundaries, and
// the stop at step 7 falls inside the second epoch.
TEST_F(TrainerTest, StopAndResumeGivesTheSameLossesAsAnUnbrokenRun) {
  train(config(12, "unbroken"), TrainOptions{});
  train(config(12, "resumed"), TrainOptions{"", 7});
  EXPECT_EQ(test::train_losses(metrics("resumed")).size(), 7u);
  train(config(12, "resumed"), TrainOptions{"latest", 0});

  const auto unbroken = test::train_losses(metrics("unbroken"));
  const auto resumed = test::train_losses(metrics("resumed"));
  ASSERT_EQ(unbroken.size(), 12u);
  ASSERT_EQ(resumed.size(), 12u);
  for (const auto& [step, loss] : unbroken) EXPECT_EQ(resumed.at(step), loss) << "step " << step;
}

TEST_F(TrainerTest, AnExistingRunFolderIsRefusedWithoutResume) {
  train(config(1, "once"), TrainOptions{});
  try {
    train(config(1, "once"), TrainOptions{});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("run folder exists; pass --resume latest"), std::string::npos);
  }
}

TEST_F(TrainerTest, ResumeLatestWithoutACheckpointStartsFresh) {
  const auto summary = train(config(2, "fresh"), TrainOptions{"latest", 0});
  EXPECT_EQ(summary.steps, 2);
  EXPECT_TRUE(std::filesystem::is_symlink(dir_.path() / "runs/fresh/checkpoints/latest"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "runs/fresh/config.yaml"));
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "runs/fresh/tokenizer.model"));
}

TEST_F(TrainerTest, TooFewPairsForOneBatchIsADataError) {
  Config c = config(1, "small");
  c.train.batch_size = 1000;
  EXPECT_THROW(train(c, TrainOptions{}), DataError);
}

}  // namespace
}  // namespace mmtrain
