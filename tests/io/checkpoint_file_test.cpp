#include "mmtrain/io/checkpoint_file.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

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

TEST(CheckpointFile, RoundTripRestoresWeightsBuffersAndMeta) {
  test::TempDir dir;
  const std::string path = (dir.path() / "a.pt").string();
  torch::manual_seed(1);
  Net saved;
  saved.train();
  saved.norm(saved.fc(torch::randn({8, 4})));  // running statistics away from their initial values
  write_checkpoint_file(path, saved, sample_meta());

  Net restored;
  const Checkpoint checkpoint = Checkpoint::load(path);
  checkpoint.restore_model(restored);
  EXPECT_EQ(checkpoint.meta().config_yaml, sample_meta().config_yaml);
  EXPECT_EQ(checkpoint.meta().tokenizer_type, sample_meta().tokenizer_type);
  EXPECT_EQ(checkpoint.meta().tokenizer_bytes, sample_meta().tokenizer_bytes);
  EXPECT_EQ(checkpoint.meta().state.step, 1234);
  EXPECT_EQ(checkpoint.meta().state.epoch, 5);
  EXPECT_EQ(checkpoint.meta().state.batch_in_epoch, 17);
  EXPECT_DOUBLE_EQ(checkpoint.meta().state.best_metric, 0.75);
  EXPECT_TRUE(torch::equal(restored.fc->weight, saved.fc->weight));
  EXPECT_TRUE(torch::equal(restored.norm->running_mean, saved.norm->running_mean));
}

// The trainer's optimizer and RNG state travel this way: the format stores them as they are.
TEST(CheckpointFile, ExtraEntriesComeBackUnderTheirKeysAndAbsentOnesReadAsMissing) {
  test::TempDir dir;
  const std::string path = (dir.path() / "extra.pt").string();
  Net net;
  const torch::Tensor stored = torch::arange(6);
  write_checkpoint_file(path, net, sample_meta(), [&](torch::serialize::OutputArchive& archive) {
    archive.write("extra/numbers", stored);
  });

  const Checkpoint checkpoint = Checkpoint::load(path);
  torch::Tensor read;
  ASSERT_TRUE(checkpoint.read_entry("extra/numbers", read));
  EXPECT_TRUE(torch::equal(read, stored));
  EXPECT_FALSE(checkpoint.read_entry("extra/absent", read));
  torch::serialize::InputArchive nested;
  EXPECT_FALSE(checkpoint.read_entry("optimizer", nested));
  EXPECT_EQ(checkpoint.model_tensors().size(), net.named_parameters().size() + net.named_buffers().size())
      << "an extra entry was taken for a model tensor";
}

TEST(CheckpointFile, TruncatedFileIsRejectedNamingIt) {
  test::TempDir dir;
  const std::string path = (dir.path() / "b.pt").string();
  Net net;
  write_checkpoint_file(path, net, sample_meta());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 100);
  try {
    Checkpoint::load(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path + ": checksum mismatch"), std::string::npos) << error.what();
  }
}

TEST(CheckpointFile, FlippedByteIsDetectedByTheChecksum) {
  test::TempDir dir;
  const std::string path = (dir.path() / "c.pt").string();
  Net net;
  write_checkpoint_file(path, net, sample_meta());
  std::string bytes = test::read_bytes(path);
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_THROW(Checkpoint::load(path), std::runtime_error);
}

TEST(CheckpointFile, ShapeMismatchNamesTheTensor) {
  test::TempDir dir;
  const std::string path = (dir.path() / "d.pt").string();
  Net net;
  write_checkpoint_file(path, net, sample_meta());
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
TEST(CheckpointFile, AFailedWriteLeavesThePreviousCheckpointIntact) {
  test::TempDir dir;
  const std::string path = (dir.path() / "e.pt").string();
  Net net;
  write_checkpoint_file(path, net, sample_meta());
  const std::string before = test::read_bytes(path);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // the write then fails with EFBIG instead of killing the process
    const rlimit limit{1024, 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    try {
      write_checkpoint_file(path, net, sample_meta());
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

}  // namespace
}  // namespace mmtrain
