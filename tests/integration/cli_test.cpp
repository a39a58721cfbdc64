// The `mmtrain` command as users run it: exit codes, messages, and the files it writes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/command.h"
#include "support/metrics.h"
#include "support/temp_dir.h"
#include "support/text_files.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

// Small model and few steps on data the binary itself writes.
std::string tiny_flags(const std::string& data, const std::string& runs) {
  return " --set run.output_dir=" + runs + " --set data.train.path=" + data + "/train.csv" +
         " --set tokenizer.vocab_size=128 --set model.embed_dim=32" +
         " --set 'model.vision={image_size: 32, patch_size: 8, width: 32, layers: 1, heads: 2}'" +
         " --set 'model.text={context_length: 16, width: 32, layers: 1, heads: 2}'" +
         " --set train.batch_size=32 --set optim.warmup_steps=2" +
         " --set eval.zeroshot.path=" + data + "/zeroshot_seen.csv" +
         " --set eval.zeroshot.classnames=" + data + "/classnames.txt" +
         " --set eval.zeroshot.templates=" + data + "/templates.txt" +
         " --set eval.retrieval.path=" + data + "/retrieval.csv";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    runs_ = (dir_.path() / "runs").string();
    config_ = dir_.write("empty.yaml", "{}\n");
    auto synth = test::run_mmtrain("data synth --out " + data_ + " --n 96 --image-size 32");
    ASSERT_EQ(synth.exit_code, 0) << synth.output;
  }
  std::string train_command(const std::string& name, int steps) {
    return "train -c " + config_ + tiny_flags(data_, runs_) + " --set run.name=" + name +
           " --set train.steps=" + std::to_string(steps);
  }

  test::TempDir dir_;
  std::string data_, runs_, config_;
};

TEST(Cli, ConfigErrorExitsTwoNamingFileLineAndKeyPath) {
  test::TempDir dir;
  const auto config = dir.write("bad.yaml", "model:\n  vision:\n    widht: 64\n");
  const auto result = test::run_mmtrain("train -c " + config);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find(config + ":3: model.vision.widht: unknown key (did you mean 'width'?)"),
            std::string::npos)
      << result.output;
}

TEST(Cli, MissingConfigFileExitsTwoNamingIt) {
  const auto result = test::run_mmtrain("train -c /nonexistent/run.yaml");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("/nonexistent/run.yaml"), std::string::npos) << result.output;
}

TEST(Cli, EveryCommandHasHelp) {
  for (const char* command : {"--help", "train --help", "eval --help", "embed --help",
                              "data synth --help", "tokenizer train --help"}) {
    const auto result = test::run_mmtrain(command);
    EXPECT_EQ(result.exit_code, 0) << command;
    EXPECT_NE(result.output.find("usage: mmtrain"), std::string::npos) << command << "\n" << result.output;
  }
  EXPECT_EQ(test::run_mmtrain("frobnicate").exit_code, 2);
}

TEST_F(CliTest, TrainThenEvalAndEmbedFromTheCheckpointAlone) {
  const auto trained = test::run_mmtrain(train_command("cli", 3));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_NE(trained.output.find("samples/s"), std::string::npos);
  const std::string checkpoint = runs_ + "/cli/checkpoints/latest";
  ASSERT_TRUE(fs::exists(checkpoint));

  const std::string json = (dir_.path() / "eval.json").string();
  const auto evaluated = test::run_mmtrain("eval --checkpoint " + checkpoint + " --json " + json);
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  std::ifstream in(json);
  const auto metrics = nlohmann::json::parse(in);
  EXPECT_EQ(metrics["step"], 3);
  for (const char* key : {"zeroshot/top1", "zeroshot/top5", "retrieval/image_to_text_R@1",
                          "retrieval/text_to_image_R@10", "retrieval/text_to_image_mean_rank"}) {
    EXPECT_TRUE(metrics.contains(key)) << key;
  }

  const auto texts = dir_.write("texts.txt", "a red circle\na blue square\n\n");
  const std::string npy = (dir_.path() / "t.npy").string();
  const auto embedded = test::run_mmtrain("embed --checkpoint " + checkpoint + " --texts " + texts + " --out " + npy);
  ASSERT_EQ(embedded.exit_code, 0) << embedded.output;
  const std::string bytes = test::read_bytes(npy);
  EXPECT_NE(bytes.find("'shape': (3,32)"), std::string::npos);
  const auto values = test::npy_floats(bytes);
  ASSERT_EQ(values.size(), 3u * 32u);
  const float* row = values.data();
  double norm = 0;
  for (int i = 0; i < 32; ++i) norm += row[i] * row[i];
  EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5);
}

// MMTRAIN_KERNELS for the commands this test runs, restored after it.
class KernelsSetting {
 public:
  explicit KernelsSetting(const char* value) { setenv("MMTRAIN_KERNELS", value, 1); }
  ~KernelsSetting() { unsetenv("MMTRAIN_KERNELS"); }
};

TEST_F(CliTest, KernelsOffTrainsOnLibTorchsPathAndAnUnknownSettingIsRefused) {
  {
    KernelsSetting off("off");
    const auto result = test::run_mmtrain(train_command("plain", 2));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    EXPECT_NE(result.output.find("kernels: off (MMTRAIN_KERNELS)"), std::string::npos) << result.output;
  }
  KernelsSetting unknown("fast");
  const auto result = test::run_mmtrain(train_command("refused", 2));
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("MMTRAIN_KERNELS: 'fast' is not one of: on, off"), std::string::npos) << result.output;
}

TEST_F(CliTest, EmbedFailsNamingAnUnreadableImage) {
  ASSERT_EQ(test::run_mmtrain(train_command("embed", 1)).exit_code, 0);
  const auto csv = dir_.write("images.csv", "filepath\n" + data_ + "/images/retrieval/000000.png\n/nope/missing.png\n");
  const auto result = test::run_mmtrain("embed --checkpoint " + runs_ + "/embed/checkpoints/latest --images " +
                                        csv + " --out " + (dir_.path() / "i.npy").string());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("/nope/missing.png"), std::string::npos) << result.output;
}

TEST_F(CliTest, SigtermWritesACheckpointAndExits143ThenResumeContinues) {
  const std::string command = std::string(MMTRAIN_BINARY) + " " + train_command("signal", 100000) +
                              " --set train.log_every=1";
  const pid_t child = test::spawn(command, (dir_.path() / "log.txt").string());
  ASSERT_GE(child, 0);
  const std::string metrics = runs_ + "/signal/metrics.jsonl";
  test::wait_for_train_records(metrics, 3);
  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 143) << test::read_bytes(dir_.path() / "log.txt");
  const auto stopped_at = test::train_losses(metrics).rbegin()->first;
  ASSERT_TRUE(fs::exists(runs_ + "/signal/checkpoints/latest"));

  const auto resumed = test::run_mmtrain(train_command("signal", 100000) + " --resume latest --stop-at " +
                                         std::to_string(stopped_at + 2));
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from"), std::string::npos);
}

// One writer per run folder: while a run trains, a second `train` on it is refused naming the
// first's process id, and readers (report) keep working; the lock goes with the process, even
// when it is killed with SIGKILL.
TEST_F(CliTest, ASecondTrainOnARunningRunIsRefusedNamingItsProcessUntilItDies) {
  const std::string flags = " --set train.log_every=1 --set train.checkpoint_every=1";
  const pid_t child = test::spawn(std::string(MMTRAIN_BINARY) + " " + train_command("locked", 100000) + flags,
                                  (dir_.path() / "locked.txt").string());
  ASSERT_GE(child, 0);
  test::wait_for_train_records(runs_ + "/locked/metrics.jsonl", 2);

  const auto second = test::run_mmtrain(train_command("locked", 100000) + flags + " --resume latest");
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_NE(second.output.find("in use by another mmtrain train (process " + std::to_string(child) + ")"),
            std::string::npos)
      << second.output;
  const auto report = test::run_mmtrain("report " + runs_ + "/locked");
  EXPECT_EQ(report.exit_code, 0) << report.output;

  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  const auto stopped_at = test::train_losses(runs_ + "/locked/metrics.jsonl").rbegin()->first;
  const auto after = test::run_mmtrain(train_command("locked", 100000) + flags + " --resume latest --stop-at " +
                                       std::to_string(stopped_at + 1));
  EXPECT_EQ(after.exit_code, 0) << after.output;
}

// kill -9 at an arbitrary step loses at most the steps since the last checkpoint; resuming then
// gives, step for step, the losses of a run that was never interrupted.
TEST_F(CliTest, KillNineThenResumeGivesTheLossesOfAnUnbrokenRun) {
  const std::string every_step = " --set train.log_every=1 --set train.checkpoint_every=3";
  ASSERT_EQ(test::run_mmtrain(train_command("unbroken", 30) + every_step).exit_code, 0);

  const std::string command = std::string(MMTRAIN_BINARY) + " " + train_command("killed", 30) + every_step;
  const pid_t child = test::spawn(command, (dir_.path() / "killed.txt").string());
  ASSERT_GE(child, 0);
  const std::string metrics = runs_ + "/killed/metrics.jsonl";
  test::wait_for_train_records(metrics, 7);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";

  const auto resumed = test::run_mmtrain(train_command("killed", 30) + every_step + " --resume latest");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto expected = test::train_losses(runs_ + "/unbroken/metrics.jsonl");
  ASSERT_EQ(expected.size(), 30u);
  EXPECT_EQ(test::train_losses(metrics), expected);
}

}  // namespace
}  // namespace mmtrain
