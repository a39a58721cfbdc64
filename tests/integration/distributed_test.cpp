// Data-parallel training over c10d Gloo on 127.0.0.1, with real processes: two ranks give the run
// of one process, a dead rank stops the other, and a stopped two-rank run resumes exactly.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <thread>
#include <utility>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/io/checkpoint_file.h"
#include "support/command.h"
#include "support/metrics.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

// Global batch 64 of the built-in data, a small ViT CLIP, one compute thread per process.
class DistributedTraining : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    data_ = (dir_->path() / "data").string();
    runs_ = (dir_->path() / "runs").string();
    ASSERT_EQ(test::run_mmtrain("data synth --out " + data_ + " --n 256 --image-size 32").exit_code, 0);
    config_ = dir_->write("dist.yaml", test::small_run_yaml(data_, runs_));
    one_ = test::run_mmtrain("train -c " + config_ + " --set run.name=one");
    two_ = test::run_mmtrain(launch(2) + " -- train -c " + config_ + " --set run.name=two");
  }
  static void TearDownTestSuite() { delete dir_; }

  static std::string launch(int ranks) {
    return "launch --nproc " + std::to_string(ranks) + " --master-port " + std::to_string(test::free_tcp_port());
  }
  // The train losses of the run with `extra` settings on one process and on two ranks (runs
  // <name>_one and <name>_two).
  using Losses = std::map<int64_t, double>;
  static std::pair<Losses, Losses> one_and_two_ranks(const std::string& extra, const std::string& name) {
    const auto one = test::run_mmtrain("train -c " + config_ + extra + " --set run.name=" + name + "_one");
    EXPECT_EQ(one.exit_code, 0) << one.output;
    const auto two = test::run_mmtrain(launch(2) + " -- train -c " + config_ + extra + " --set run.name=" + name + "_two");
    EXPECT_EQ(two.exit_code, 0) << two.output;
    return {test::train_losses(runs_ + "/" + name + "_one/metrics.jsonl"),
            test::train_losses(runs_ + "/" + name + "_two/metrics.jsonl")};
  }
  static std::map<std::string, torch::Tensor> final_weights(const std::string& run) {
    return Checkpoint::load(runs_ + "/" + run + "/checkpoints/latest").model_tensors();
  }

  static test::TempDir* dir_;
  static std::string data_, runs_, config_;
  static test::CommandResult one_, two_;
};

test::TempDir* DistributedTraining::dir_ = nullptr;
std::string DistributedTraining::data_, DistributedTraining::runs_, DistributedTraining::config_;
test::CommandResult DistributedTraining::one_, DistributedTraining::two_;

TEST_F(DistributedTraining, TwoRanksGiveTheLossesOfOneProcessWithTheSameGlobalBatch) {
  ASSERT_EQ(one_.exit_code, 0) << one_.output;
  ASSERT_EQ(two_.exit_code, 0) << two_.output;
  const auto one = test::train_losses(runs_ + "/one/metrics.jsonl");
  const auto two = test::train_losses(runs_ + "/two/metrics.jsonl");
  ASSERT_EQ(one.size(), 8u);
  ASSERT_EQ(two.size(), one.size());
  for (const auto& [step, loss] : one) {
    EXPECT_NEAR(two.at(step), loss, 1e-5 * std::abs(loss)) << "step " << step;  // 1e-5 relative
  }
}

TEST_F(DistributedTraining, TwoRanksEndWithTheParametersOfOneProcess) {
  ASSERT_EQ(two_.exit_code, 0) << two_.output;
  const auto one = final_weights("one");
  const auto two = final_weights("two");
  ASSERT_EQ(one.size(), two.size());
  for (const auto& [name, value] : one) {
    const double norm = value.norm().item<double>();
    const double diff = (two.at(name) - value).norm().item<double>();
    EXPECT_LE(diff, 1e-5 * std::max(norm, 1e-12)) << name;  // 1e-5 relative to the tensor's norm
  }
}

TEST_F(DistributedTraining, AStoppedTwoRankRunResumesToTheSameLosses) {
  ASSERT_EQ(two_.exit_code, 0) << two_.output;
  const std::string command = " -- train -c " + config_ + " --set run.name=stopped";
  const auto stopped = test::run_mmtrain(launch(2) + command + " --stop-at 4");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  const auto resumed = test::run_mmtrain(launch(2) + command + " --resume latest");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto expected = test::train_losses(runs_ + "/two/metrics.jsonl");
  const auto got = test::train_losses(runs_ + "/stopped/metrics.jsonl");
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& [step, loss] : expected) EXPECT_NEAR(got.at(step), loss, 1e-6 * std::abs(loss)) << "step " << step;
}

// The caption term is a mean over each rank's rows and its gradients are averaged: two ranks train
// the caption decoder as one process does, up to how tokens split between the ranks (the mean of
// the ranks' token means against the mean over all tokens).
TEST_F(DistributedTraining, ACaptionModelTrainsOnTwoRanksWithTheLossOfOneProcess) {
  const std::string caption = " --set 'model.head={type: caption, layers: 1, heads: 2}'"
                              " --set 'loss.terms={clip: 1.0, caption: 2.0}' --set data.train.caption_key=description";
  const auto [expected, got] = one_and_two_ranks(caption, "caption");
  ASSERT_EQ(got.size(), expected.size());
  ASSERT_FALSE(got.empty());
  EXPECT_NEAR(got.at(1), expected.at(1), 0.01 * expected.at(1));
  for (const auto& [step, loss] : expected) EXPECT_NEAR(got.at(step), loss, 0.03 * loss) << "step " << step;
}

// The levers that draw nothing (activation checkpointing, layer-wise rates, partial unlocking) keep
// two ranks equal to one process; those that draw per row (patch dropout, late fusion's modality
// dropout) draw per rank, so they are only asked to train there.
TEST_F(DistributedTraining, TheMemoryAndFineTuningLeversRunOnTwoRanks) {
  const std::string levers = " --set train.grad_checkpointing=true --set optim.layer_decay=0.75"
                             " --set model.lock.vision=true --set model.lock.vision_unlocked_groups=2";
  const auto [expected, got] = one_and_two_ranks(levers, "levers");
  ASSERT_EQ(got.size(), expected.size());
  ASSERT_FALSE(got.empty());
  for (const auto& [step, loss] : expected) EXPECT_NEAR(got.at(step), loss, 1e-5 * std::abs(loss)) << "step " << step;

  const auto drawn = test::run_mmtrain(launch(2) + " -- train -c " + config_ + levers +
                                       " --set model.vision.patch_dropout=0.5 --set train.modality_dropout=0.3"
                                       " --set run.name=levers_drawn");
  ASSERT_EQ(drawn.exit_code, 0) << drawn.output;
  for (const auto& [step, loss] : test::train_losses(runs_ + "/levers_drawn/metrics.jsonl")) {
    EXPECT_TRUE(std::isfinite(loss)) << "step " << step;
  }
}

TEST_F(DistributedTraining, WhenARankDiesTheOtherExitsWithAnErrorNamingIt) {
  // Two ranks started by hand (not by `launch`, which would stop the survivor itself).
  const int port = test::free_tcp_port();
  auto rank_command = [&](int rank) {
    return "env RANK=" + std::to_string(rank) + " WORLD_SIZE=2 LOCAL_RANK=" + std::to_string(rank) +
           " LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " " +
           MMTRAIN_BINARY + " train -c " + config_ + " --set run.name=dies --set train.steps=500";
  };
  const std::string log0 = (dir_->path() / "rank0.txt").string();
  const pid_t rank0 = test::spawn(rank_command(0), log0);
  const pid_t rank1 = test::spawn(rank_command(1), (dir_->path() / "rank1.txt").string());
  test::wait_for_train_records(runs_ + "/dies/metrics.jsonl", 3);
  ASSERT_GE(test::train_losses(runs_ + "/dies/metrics.jsonl").size(), 3u) << test::read_bytes(log0);
  kill(rank1, SIGKILL);
  int killed = 0;
  waitpid(rank1, &killed, 0);
  ASSERT_TRUE(WIFSIGNALED(killed)) << "rank 1 ended before it could be killed";

  const auto killed_at = std::chrono::steady_clock::now();
  int status = 0;
  pid_t done = 0;
  while ((done = waitpid(rank0, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() - killed_at < std::chrono::seconds(120)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (done == 0) {
    kill(rank0, SIGKILL);
    waitpid(rank0, nullptr, 0);
    FAIL() << "rank 0 still running 120 s after rank 1 died";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  const std::string output = test::read_bytes(log0);
  EXPECT_NE(output.find("rank 1"), std::string::npos) << output;
}

}  // namespace
}  // namespace mmtrain
