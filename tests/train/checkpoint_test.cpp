#include "mmtrain/train/checkpoint.h"

#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "support/error_message.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

// One AdamW step on a fixed batch, so that the optimizer has moments to save.
void train_one_step(torch::nn::Linear& net, torch::optim::AdamW& optimizer, int64_t seed) {
  torch::manual_seed(seed);
  optimizer.zero_grad();
  net->forward(torch::randn({8, 4})).pow(2).sum().backward();
  optimizer.step();
}

TEST(TrainerCheckpoint, RestoredOptimizerTakesTheSameNextStepAsTheOriginal) {
  test::TempDir dir;
  const std::string path = (dir.path() / "a.pt").string();
  torch::manual_seed(1);
  torch::nn::Linear saved(4, 3);
  torch::optim::AdamW optimizer(saved->parameters(), torch::optim::AdamWOptions(0.1));
  train_one_step(saved, optimizer, 2);
  save_checkpoint(path, *saved, optimizer, CheckpointMeta{});

  torch::nn::Linear restored(4, 3);
  torch::optim::AdamW restored_optimizer(restored->parameters(), torch::optim::AdamWOptions(0.1));
  const Checkpoint checkpoint = Checkpoint::load(path);
  checkpoint.restore_model(*restored);
  restore_optimizer(checkpoint, *restored, restored_optimizer);

  // Identical weights after the next step only if the Adam moments and step count came back.
  train_one_step(saved, optimizer, 3);
  train_one_step(restored, restored_optimizer, 3);
  EXPECT_TRUE(torch::equal(restored->weight, saved->weight));
}

// LibTorch keys optimizer state by a TensorImpl address, written differently by 1.13 and 2.x; the
// checkpoint keys it by parameter name, on the CPU, so that either build (and any device) reads it.
TEST(TrainerCheckpoint, OptimizerStateIsStoredByParameterNameOnTheCpu) {
  test::TempDir dir;
  const std::string path = (dir.path() / "named.pt").string();
  torch::manual_seed(1);
  torch::nn::Linear net(4, 3);
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(0.1));
  train_one_step(net, optimizer, 2);
  save_checkpoint(path, *net, optimizer, CheckpointMeta{});

  const Checkpoint checkpoint = Checkpoint::load(path);
  torch::Tensor exp_avg;
  c10::IValue step;
  ASSERT_TRUE(checkpoint.read_entry("optimizer/adamw/weight/exp_avg", exp_avg));
  ASSERT_TRUE(checkpoint.read_entry("optimizer/adamw/bias/step", step));
  EXPECT_EQ(step.toInt(), 1);
  EXPECT_TRUE(exp_avg.device().is_cpu());
  EXPECT_EQ(exp_avg.sizes(), net->weight.sizes());
  // The first moment after one step is (1 - beta1) * gradient, nonzero for this batch.
  EXPECT_GT(exp_avg.abs().sum().item<double>(), 0.0);
}

TEST(TrainerCheckpoint, RestoredRngDrawsWhatTheSavedRunWouldHaveDrawn) {
  test::TempDir dir;
  const std::string path = (dir.path() / "rng.pt").string();
  torch::nn::Linear net(4, 3);
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(0.1));
  torch::manual_seed(7);
  torch::rand({5});  // the generator away from a freshly seeded state
  save_checkpoint(path, *net, optimizer, CheckpointMeta{});
  const torch::Tensor expected = torch::rand({5});

  torch::manual_seed(99);
  restore_rng(Checkpoint::load(path));

  EXPECT_TRUE(torch::equal(torch::rand({5}), expected));
}

// convert writes weights only: evaluation reads such a file, a resume must not pretend to.
TEST(TrainerCheckpoint, WeightsOnlyFileIsRefusedForResumeNamingIt) {
  test::TempDir dir;
  const std::string path = (dir.path() / "weights.pt").string();
  torch::nn::Linear net(4, 3);
  write_checkpoint_file(path, *net, CheckpointMeta{});
  const Checkpoint checkpoint = Checkpoint::load(path);
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(0.1));

  const std::string optimizer_message =
      test::error_message<std::runtime_error>([&] { restore_optimizer(checkpoint, *net, optimizer); });
  const std::string rng_message = test::error_message<std::runtime_error>([&] { restore_rng(checkpoint); });

  EXPECT_NE(optimizer_message.find(path + ": holds no optimizer state"), std::string::npos) << optimizer_message;
  EXPECT_NE(rng_message.find(path + ": holds no RNG state"), std::string::npos) << rng_message;
}

}  // namespace
}  // namespace mmtrain
