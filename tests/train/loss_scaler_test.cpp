#include "mmtrain/train/loss_scaler.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/train/checkpoint.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

TEST(LossScaler, DisabledScalesByOneWhateverHappens) {
  LossScaler scaler(false);
  scaler.update(false);
  for (int i = 0; i < 5000; ++i) scaler.update(true);
  EXPECT_EQ(scaler.scale(), 1.0);
}

TEST(LossScaler, OverflowHalvesTheScaleAndRestartsTheGrowthCount) {
  LossScalerOptions options;
  options.growth_interval = 3;
  LossScaler scaler(true, options);
  EXPECT_EQ(scaler.scale(), 65536.0);
  scaler.update(true);
  scaler.update(true);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 32768.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
  // Two finite steps after the overflow are not yet three in a row.
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 32768.0);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 65536.0);
  EXPECT_EQ(scaler.growth_tracker(), 0);
}

TEST(LossScaler, ACheckpointKeepsScaleAndGrowthTracker) {
  test::TempDir dir;
  const std::string path = (dir.path() / "fp16.pt").string();
  torch::nn::Linear net(2, 2);
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(0.1));
  LossScaler saved(true);
  saved.update(false);
  saved.update(true);
  save_checkpoint(path, *net, optimizer, CheckpointMeta{}, &saved);

  LossScaler restored(true);
  restore_loss_scaler(Checkpoint::load(path), restored);
  EXPECT_EQ(restored.scale(), 32768.0);
  EXPECT_EQ(restored.growth_tracker(), 1);

  // Written without fp16: the scaler keeps its initial state.
  const std::string plain = (dir.path() / "fp32.pt").string();
  save_checkpoint(plain, *net, optimizer, CheckpointMeta{});
  LossScaler untouched(true);
  restore_loss_scaler(Checkpoint::load(plain), untouched);
  EXPECT_EQ(untouched.scale(), 65536.0);
}

}  // namespace
}  // namespace mmtrain
