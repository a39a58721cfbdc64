#include "mmtrain/train/trainer.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/io/checkpoint_file.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/train/init_from.h"
#include "support/error_message.h"
#include "support/metrics.h"
#include "support/tar_writer.h"
#include "support/tensorboard_reader.h"
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

// Patch dropout and late fusion's modality dropout draw from the checkpointed generator, activation
// checkpointing replays it, and layer-wise rates and partial unlocking shape the optimizer that
// resume rebuilds: with bf16 and accumulation too, a resumed run gives the unbroken run's losses.
TEST_F(TrainerTest, TheMemoryAndFineTuningLeversKeepResumeExact) {
  auto levers = [&](const std::string& name) {
    Config c = config(8, name);
    c.model.vision.patch_dropout = 0.5;
    c.train.modality_dropout = 0.2;
    c.train.grad_checkpointing = true;
    c.train.precision = "bf16";
    c.train.accum_steps = 2;
    c.optim.layer_decay = 0.75;
    c.model.lock.vision = true;
    c.model.lock.vision_unlocked_groups = 2;
    return c;
  };
  train(levers("unbroken"), TrainOptions{});
  train(levers("resumed"), TrainOptions{"", 5});
  train(levers("resumed"), TrainOptions{"latest", 0});
  const auto unbroken = test::train_losses(metrics("unbroken"));
  const auto resumed = test::train_losses(metrics("resumed"));
  ASSERT_EQ(unbroken.size(), 8u);
  ASSERT_EQ(resumed.size(), 8u);
  for (const auto& [step, loss] : unbroken) EXPECT_EQ(resumed.at(step), loss) << "step " << step;
  // The levers are on: without patch dropout the first step's loss differs.
  Config plain = levers("plain");
  plain.model.vision.patch_dropout = 0.0;
  train(plain, TrainOptions{});
  EXPECT_NE(test::train_losses(metrics("plain")).at(1), unbroken.at(1));
}

TEST_F(TrainerTest, LateFusionModalityDropoutLearnsPlaceholdersAndEvalAlsoScoresDegradedImages) {
  Config c = test::tiny_config(dir_.path().string(), data_, 4);
  c.run.name = "placeholders";
  c.train.modality_dropout = 0.5;
  c.eval.degraded = true;
  const TrainSummary summary = train(c, TrainOptions{});
  for (const std::string suffix : {"", "@blur", "@occluded"}) {
    EXPECT_EQ(summary.eval.count("zeroshot/top1" + suffix), 1u) << suffix;
    EXPECT_EQ(summary.eval.count("retrieval/image_to_text_R@1" + suffix), 1u) << suffix;
  }
  const auto tensors = Checkpoint::load(summary.run_dir + "/checkpoints/latest").model_tensors();
  EXPECT_GT(tensors.at("placeholders.image").abs().sum().item<double>(), 0.0) << "trained away from zero";
  EXPECT_GT(tensors.at("placeholders.text").abs().sum().item<double>(), 0.0);
  // The checkpoint still loads for evaluation and as init_from weights, placeholders or not.
  EXPECT_NO_THROW(load_checkpoint_model(summary.run_dir + "/checkpoints/latest", torch::kCPU));
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

TEST_F(TrainerTest, AccumulationWithALearnedScalarTermIsRefusedBeforeTheRunFolderIsMade) {
  Config c = config(1, "accumulated");
  c.train.accum_steps = 2;
  c.loss.terms = {{"siglip", 1.0}};
  const std::string message = test::error_message<ConfigError>([&] { train(c, TrainOptions{}); });
  EXPECT_NE(message.find("train.accum_steps: loss term 'siglip'"), std::string::npos) << message;
  EXPECT_NE(message.find("(siglip_log_scale, siglip_bias)"), std::string::npos) << message;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "runs/accumulated"));
}

TEST_F(TrainerTest, ImageTextMatchingOnLateFusionIsRefusedBeforeTheFirstStep) {
  Config c = config(1, "itm_late");
  c.loss.terms = {{"clip", 1.0}, {"itm", 1.0}};
  const std::string message = test::error_message<ConfigError>([&] { train(c, TrainOptions{}); });
  EXPECT_EQ(message, "loss.terms.itm: this fusion has no match head (use model.fusion.type early or cross_attention)");
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "runs/itm_late/metrics.jsonl"));
}

TEST_F(TrainerTest, TooFewPairsForOneBatchIsADataError) {
  Config c = config(1, "small");
  c.train.batch_size = 1000;
  EXPECT_THROW(train(c, TrainOptions{}), DataError);
}

TEST_F(TrainerTest, ResumeFallsBackToTheNewestValidCheckpointWhenLatestIsTruncated) {
  Config c = config(6, "fallback");
  c.train.checkpoint_every = 2;
  train(c, TrainOptions{"", 4});
  const auto newest = (dir_.path() / "runs/fallback/checkpoints/step_00000004.pt");
  std::filesystem::resize_file(newest, std::filesystem::file_size(newest) / 2);

  const auto summary = train(c, TrainOptions{"latest", 0});
  EXPECT_EQ(summary.steps, 6);
  const auto losses = test::train_losses(metrics("fallback"));
  EXPECT_EQ(losses.size(), 6u);  // steps 3 and 4 were run again, and logged once
  train(config(6, "fallback_unbroken"), TrainOptions{});
  EXPECT_EQ(losses, test::train_losses(metrics("fallback_unbroken")));
}

TEST_F(TrainerTest, ResumeRefusesChangesThatBreakContinuityAndListsThem) {
  train(config(4, "changed"), TrainOptions{"", 2});
  Config changed = config(4, "changed");
  changed.train.batch_size = 16;
  changed.optim.lr = 1e-4;
  try {
    train(changed, TrainOptions{"latest", 0});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("train.batch_size: 32 -> 16"), std::string::npos) << message;
    EXPECT_NE(message.find("optim.lr:"), std::string::npos) << message;
  }
}

TEST_F(TrainerTest, ResumeAcceptsLoggingAndCadenceChanges) {
  train(config(4, "harmless"), TrainOptions{"", 2});
  Config changed = config(4, "harmless");
  changed.train.log_every = 2;
  changed.train.keep_last = 5;
  changed.run.threads = 1;
  EXPECT_EQ(train(changed, TrainOptions{"latest", 0}).steps, 4);
}

// A NaN weight makes every loss NaN: each step is skipped and counted, and the run stops after
// train.max_nonfinite_in_a_row of them with advice instead of training on garbage.
TEST_F(TrainerTest, NonFiniteStepsAreSkippedAndTooManyInARowStopTheRun) {
  train(config(1, "source"), TrainOptions{});
  const std::string source = (dir_.path() / "runs/source/checkpoints/latest").string();
  const std::string poisoned = (dir_.path() / "poisoned.pt").string();
  {
    CheckpointModel loaded = load_checkpoint_model(source, torch::kCPU);
    torch::NoGradGuard no_grad;
    loaded.model->named_parameters()["fusion.text_projection"][0][0] = NAN;
    write_checkpoint_file(poisoned, *loaded.model, Checkpoint::load(source).meta());
  }
  Config c = config(20, "nan");
  c.model.init_from.format = "mmtrain";
  c.model.init_from.weights = poisoned;
  c.train.max_nonfinite_in_a_row = 3;
  try {
    train(c, TrainOptions{});
    FAIL() << "expected the run to stop";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("3 non-finite steps in a row"), std::string::npos) << error.what();
  }
}

// A missing image in the training data: the run goes on, and metrics.jsonl counts it by kind.
TEST_F(TrainerTest, BadSamplesAreCountedInDataRecordsAndTheirShareIsBounded) {
  auto dataset = read_pair_csv(data_ + "/train.csv", "filepath", "title", '\t');
  std::filesystem::remove(dataset.samples[3].image_path);
  Config tolerant = config(10, "tolerant");
  tolerant.data.max_bad_fraction = 0.05;  // 1 of 160 pairs, judged after one pass
  train(tolerant, TrainOptions{});
  std::ifstream in(metrics("tolerant"));
  int64_t missing = 0;
  for (std::string line; std::getline(in, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record["kind"] == "data") missing = record.value("bad/missing", int64_t{0});
  }
  EXPECT_GE(missing, 1);

  Config strict = config(10, "strict");
  strict.data.max_bad_fraction = 0.001;
  const std::string message = test::error_message<DataError>([&] { train(strict, TrainOptions{}); });
  EXPECT_NE(message.find("data.max_bad_fraction"), std::string::npos) << message;
  EXPECT_NE(message.find("missing"), std::string::npos) << message;
}

// model.init_from.key_map loads part of a checkpoint: here only the vision tower.
TEST_F(TrainerTest, KeyMapLoadsOnlyTheMappedTowerAndRefusesUnknownPrefixes) {
  train(config(2, "donor"), TrainOptions{});
  const std::string donor = (dir_.path() / "runs/donor/checkpoints/latest").string();
  CheckpointModel loaded = load_checkpoint_model(donor, torch::kCPU);
  const auto donor_weights = Checkpoint::load(donor).model_tensors();
  Config c = config(1, "partial");
  c.model.init_from.format = "mmtrain";
  c.model.init_from.weights = donor;
  c.model.init_from.key_map = "vision.=vision.";
  torch::manual_seed(123);
  auto model = build_model(c.model, TextVocab{loaded.tokenizer->vocab_size(), loaded.tokenizer->eos_id()});
  load_init_weights(c, *model);
  for (const auto& item : model->named_parameters()) {
    const bool same = torch::equal(item.value(), donor_weights.at(item.key()));
    EXPECT_EQ(same, item.key().rfind("vision.", 0) == 0) << item.key();
  }
  c.model.init_from.key_map = "visual.=vision.";
  EXPECT_THROW(load_init_weights(c, *model), ConfigError);
  c.model.init_from.key_map = "vision.";
  EXPECT_THROW(load_init_weights(c, *model), ConfigError);
}

// data.train.type webdataset: the run streams tar shards (here the tiny set packed into 4 shards),
// and a shard pattern that matches no file fails before training.
TEST_F(TrainerTest, TrainsFromWebDatasetShardsAndRefusesAPatternWithNoShard) {
  const auto dataset = read_pair_csv(data_ + "/train.csv", "filepath", "title", '\t');
  for (int shard = 0; shard < 4; ++shard) {
    std::vector<test::TarEntry> entries;
    for (size_t i = shard; i < dataset.samples.size(); i += 4) {
      const std::string key = "s" + std::to_string(i);
      entries.push_back({key + ".png", test::read_bytes(dataset.samples[i].image_path)});
      entries.push_back({key + ".txt", dataset.samples[i].captions.front()});
    }
    test::write_tar((dir_.path() / ("shard-" + std::to_string(shard) + ".tar")).string(), entries);
  }
  Config c = config(4, "wds");
  c.data.train.type = "webdataset";
  c.data.train.path = (dir_.path() / "shard-{0..3}.tar").string();
  c.data.train.shuffle_buffer = 16;
  train(c, TrainOptions{"", 2});
  Config other_workers = c;
  other_workers.data.workers = 1;  // a stream's order depends on it: refused on resume
  EXPECT_THROW(train(other_workers, TrainOptions{"latest", 0}), ConfigError);
  const auto summary = train(c, TrainOptions{"latest", 0});
  EXPECT_EQ(summary.steps, 4);
  EXPECT_EQ(test::train_losses(metrics("wds")).size(), 4u);

  Config wrong = config(4, "wds_wrong");
  wrong.data.train.type = "webdataset";
  wrong.data.train.path = (dir_.path() / "nowhere-{0..3}.tar").string();
  const std::string message = test::error_message<DataError>([&] { train(wrong, TrainOptions{}); });
  EXPECT_NE(message.find("none of the 4 shards"), std::string::npos) << message;
}

TEST_F(TrainerTest, TensorBoardEventsHoldTheTrainScalarsOfEveryLoggedStep) {
  Config c = config(3, "tb");
  c.train.tensorboard = true;
  train(c, TrainOptions{});
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() / "runs/tb/tensorboard")) {
    files.push_back(entry.path().string());
  }
  ASSERT_EQ(files.size(), 1u);
  const auto events = test::read_tensorboard_events(files[0]);
  ASSERT_EQ(events.size(), 4u);  // the version event, then steps 1..3
  const auto losses = test::train_losses(metrics("tb"));
  for (int64_t step = 1; step <= 3; ++step) {
    const auto& event = events[step];
    EXPECT_EQ(event.step, step);
    bool found = false;
    for (const auto& [tag, value] : event.values) {
      if (tag == "train/loss") {
        EXPECT_FLOAT_EQ(value, static_cast<float>(losses.at(step)));
        found = true;
      }
    }
    EXPECT_TRUE(found) << "step " << step;
  }
}

}  // namespace
}  // namespace mmtrain
