#include "mmtrain/io/checkpoint_file.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/train/run_dir.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

struct Net : torch::nn::Module {
  Net() {
    fc = register_module("fc", torch::nn::Linear(4, 3));
    norm = register_module("norm", torch::nn::BatchNorm1d(3));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d norm{nullptr};
};

CheckpointMeta sample_meta() {
  CheckpointMeta meta;
  meta.config_yaml = "run: {name: x}\n";
  meta.tokenizer_type = "sentencepiece";
  meta.tokenizer_bytes = std::string("\x00\x01\xff binary", 10);
  meta.state = TrainState{1234, 5, 17, 0.75};
  return meta;
}

// One optimizer step so that AdamW has state and the batch norm has running statistics.
void train_one_step(Net& net, torch::optim::AdamW& optimizer) {
  net.train();
  optimizer.zero_grad();
  net.norm(net.fc(torch::randn({8, 4}))).pow(2).sum().backward();
  optimizer.step();
}

TEST(Checkpoint, RoundTripRestoresWeightsBuffersOptimizerAndMeta) {
  test::TempDir dir;
  const std::string path = (dir.path() / "a.pt").string();
  torch::manual_seed(1);
  Net saved;
  torch::optim::AdamW optimizer(saved.parameters(), torch::optim::AdamWOptions(0.1));
  train_one_step(saved, optimizer);
  save_checkpoint(path, saved, &optimizer, sample_meta());

  Net restored;
  torch::optim::AdamW restored_optimizer(restored.parameters(), torch::optim::AdamWOptions(0.1));
  const Checkpoint checkpoint = Checkpoint::load(path);
  checkpoint.restore_model(restored);
  checkpoint.restore_optimizer(restored_optimizer);
  EXPECT_EQ(checkpoint.meta().config_yaml, sample_meta().config_yaml);
  EXPECT_EQ(checkpoint.meta().tokenizer_bytes, sample_meta().tokenizer_bytes);
  EXPECT_EQ(checkpoint.meta().state.step, 1234);
  EXPECT_EQ(checkpoint.meta().state.batch_in_epoch, 17);
  EXPECT_DOUBLE_EQ(checkpoint.meta().state.best_metric, 0.75);
  EXPECT_TRUE(torch::equal(restored.fc->weight, saved.fc->weight));
  EXPECT_TRUE(torch::equal(restored.norm->running_mean, saved.norm->running_mean));

  // The same next step from both: identical weights only if the Adam moments came back.
  torch::manual_seed(2);
  train_one_step(saved, optimizer);
  torch::manual_seed(2);
  train_one_step(restored, restored_optimizer);
  EXPECT_TRUE(torch::equal(restored.fc->weight, saved.fc->weight));
}

TEST(Checkpoint, TruncatedFileIsRejectedNamingIt) {
  test::TempDir dir;
  const std::string path = (dir.path() / "b.pt").string();
  Net net;
  save_checkpoint(path, net, nullptr, sample_meta());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 100);
  try {
    Checkpoint::load(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path + ": checksum mismatch"), std::string::npos) << error.what();
  }
}

TEST(Checkpoint, FlippedByteIsDetectedByTheChecksum) {
  test::TempDir dir;
  const std::string path = (dir.path() / "c.pt").string();
  Net net;
  save_checkpoint(path, net, nullptr, sample_meta());
  std::string bytes = test::read_bytes(path);
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_THROW(Checkpoint::load(path), std::runtime_error);
}

TEST(Checkpoint, ShapeMismatchNamesTheTensor) {
  test::TempDir dir;
  const std::string path = (dir.path() / "d.pt").string();
  Net net;
  save_checkpoint(path, net, nullptr, sample_meta());
  struct Other : torch::nn::Module {
    Other() { fc = register_module("fc", torch::nn::Linear(5, 3)); }
    torch::nn::Linear fc{nullptr};
  } other;
  try {
    Checkpoint::load(path).restore_model(other);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("'fc.weight' has shape [3, 4]"), std::string::npos) << error.what();
  }
}

// A write that fails midway (here: a file size limit, as a full disk would) fails that save with
// the file named, removes the partial temp file and leaves the previous checkpoint as it was.
TEST(Checkpoint, AFailedWriteLeavesThePreviousCheckpointIntact) {
  test::TempDir dir;
  const std::string path = (dir.path() / "e.pt").string();
  Net net;
  save_checkpoint(path, net, nullptr, sample_meta());
  const std::string before = test::read_bytes(path);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG instead of killing the process
    const rlimit limit{1024, 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      save_checkpoint(path, net, nullptr, sample_meta());
    } catch (const std::runtime_error& error) {
      _exit(std::string(error.what()).find("write failed") != std::string::npos ? 0 : 2);
    }
    _exit(3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: message without 'write failed', 3: no error raised";
  EXPECT_EQ(test::read_bytes(path), before);
  EXPECT_NO_THROW(Checkpoint::load(path));
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u) << "the partial temp file was left behind";
}

TEST(RunDir, LatestPointsAtTheNewestAndPruningKeepsItAndTheNewestK) {
  test::TempDir dir;
  RunDir run((dir.path() / "run").string());
  run.create();
  Net net;
  for (int64_t step : {100, 200, 300, 400}) {
    save_checkpoint(run.checkpoint_path(step), net, nullptr, sample_meta());
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

}  // namespace
}  // namespace mmtrain
