// Whole runs on CUDA through the command line: a resumed CUDA run repeats the unbroken one, two
// ranks (Gloo, CUDA tensors, both on GPU 0) give the run of one process, and a checkpoint trained
// on CUDA evaluates on the CPU. Skipped, saying why, where there is no CUDA device.
#include <cmath>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "support/command.h"
#include "support/cuda.h"
#include "support/metrics.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"

namespace mmtrain {
namespace {

class CudaTraining : public ::testing::Test {
 protected:
  void SetUp() override {
    MMTRAIN_SKIP_WITHOUT_CUDA();
    data_ = (dir_.path() / "data").string();
    runs_ = (dir_.path() / "runs").string();
    ASSERT_EQ(test::run_mmtrain("data synth --out " + data_ + " --n 256 --image-size 32").exit_code, 0);
    config_ = dir_.write("cuda.yaml", test::small_run_yaml(data_, runs_, ", device: 'cuda:0'") +
                                          "eval: {zeroshot: {path: " + data_ + "/zeroshot_seen.csv, classnames: " +
                                          data_ + "/classnames.txt, templates: " + data_ + "/templates.txt}}\n");
  }
  // launch: "" or a `launch ... --` prefix; sets: further --set options.
  std::string train(const std::string& name, const std::string& launch = "", const std::string& sets = "") {
    const auto result = test::run_mmtrain(launch + " train -c " + config_ + " --set run.name=" + name + sets);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return runs_ + "/" + name;
  }

  test::TempDir dir_;
  std::string data_, runs_, config_;
};

// Tolerance: cuBLAS GEMMs repeat bit for bit on one GPU; attention's fused backward may add in a
// different order from run to run, so losses are held to 1e-5 relative.
TEST_F(CudaTraining, AStoppedRunResumesToTheLossesOfTheUnbrokenRun) {
  const auto unbroken = test::train_losses(train("unbroken") + "/metrics.jsonl");
  const auto stopped = test::run_mmtrain("train -c " + config_ + " --set run.name=stopped --stop-at 4");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  const auto resumed = test::run_mmtrain("train -c " + config_ + " --set run.name=stopped --resume latest");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  const auto got = test::train_losses(runs_ + "/stopped/metrics.jsonl");
  ASSERT_EQ(got.size(), unbroken.size());
  for (const auto& [step, loss] : unbroken) EXPECT_NEAR(got.at(step), loss, 1e-5 * std::abs(loss)) << "step " << step;
}

TEST_F(CudaTraining, TwoGlooRanksOnOneGpuGiveTheLossesOfOneProcess) {
  const auto one = test::train_losses(train("one") + "/metrics.jsonl");
  const std::string launch = "launch --nproc 2 --master-port " + std::to_string(test::free_tcp_port()) + " --";
  const auto two = test::train_losses(train("two", launch) + "/metrics.jsonl");
  ASSERT_EQ(two.size(), one.size());
  for (const auto& [step, loss] : one) EXPECT_NEAR(two.at(step), loss, 1e-5 * std::abs(loss)) << "step " << step;
}

TEST_F(CudaTraining, ACheckpointTrainedOnCudaEvaluatesOnTheCpu) {
  const std::string run = train("evaluated");
  const auto eval = test::run_mmtrain("eval --checkpoint " + run + "/checkpoints/latest --set run.device=cpu --json -");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("zeroshot/top1"), std::string::npos) << eval.output;
}

// bf16 autocast and fp16 with the loss scaler train on CUDA: finite losses that fall, and for
// fp16 the scale in every train record.
TEST_F(CudaTraining, Bf16AndFp16RunsTrainWithFiniteFallingLosses) {
  for (const std::string precision : {"bf16", "fp16"}) {
    const std::string run = train(precision, "", " --set train.precision=" + precision + " --set train.steps=20");
    const auto losses = test::train_losses(run + "/metrics.jsonl");
    ASSERT_EQ(losses.size(), 20u) << precision;
    for (const auto& [step, loss] : losses) ASSERT_TRUE(std::isfinite(loss)) << precision << " step " << step;
    EXPECT_LT(losses.rbegin()->second, losses.begin()->second) << precision;
    std::ifstream metrics(run + "/metrics.jsonl");
    const std::string text((std::istreambuf_iterator<char>(metrics)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find("\"loss_scale\"") != std::string::npos, precision == "fp16") << precision;
  }
}

}  // namespace
}  // namespace mmtrain
