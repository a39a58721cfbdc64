#include "mmtrain/train/run_dir.h"

#include <filesystem>
#include <stdexcept>

#include <unistd.h>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace mmtrain {
namespace {

// RunDir never reads a checkpoint, so stand-in files serve as well as real ones.
TEST(RunDir, LatestPointsAtTheNewestAndPruningKeepsItAndTheNewestK) {
  test::TempDir dir;
  RunDir run((dir.path() / "run").string());
  run.create();
  for (int64_t step : {100, 200, 300, 400}) {
    test::TempDir::write_file(run.checkpoint_path(step), "checkpoint " + std::to_string(step));
    run.point_latest(run.checkpoint_path(step));
  }
  run.prune(2);
  EXPECT_FALSE(std::filesystem::exists(run.checkpoint_path(100)));
  EXPECT_FALSE(std::filesystem::exists(run.checkpoint_path(200)));
  EXPECT_TRUE(std::filesystem::exists(run.checkpoint_path(300)));
  ASSERT_TRUE(run.latest().has_value());
  EXPECT_EQ(*run.latest(), run.checkpoint_path(400));
  EXPECT_TRUE(std::filesystem::is_symlink(run.checkpoints() + "/latest"));
  EXPECT_EQ(std::filesystem::read_symlink(run.checkpoints() + "/latest"), "step_00000400.pt");
}

TEST(RunLock, ASecondLockOnTheFolderIsRefusedNamingTheHolderAndFreedWhenReleased) {
  test::TempDir dir;
  const std::string run = (dir.path() / "run").string();
  {
    RunLock first(run);
    try {
      RunLock second(run);
      FAIL() << "a second lock on " << run << " was granted";
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find(run + ": in use by another mmtrain train (process " + std::to_string(getpid()) + ")"),
                std::string::npos)
          << message;
    }
  }
  EXPECT_NO_THROW(RunLock again(run));
}

}  // namespace
}  // namespace mmtrain
