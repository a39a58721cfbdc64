// Vision-language-action as a user runs it with the binary: the table-top episodes written, a
// cross-attention policy with the action head trained, stopped and resumed, evaluated offline and
// closed loop, rolled out by `mmtrain rollout` (reproducibly, with the instruction blanked, and the
// expert), and the report showing the rollouts' frames.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/command.h"
#include "support/temp_dir.h"
#include "support/text_files.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;
using test::read_text;

std::string train_command(const std::string& config, const std::string& data, const std::string& runs,
                          const std::string& name, const std::string& head, const std::string& loss) {
  return "train -c " + config + " --set run.output_dir=" + runs + " --set run.name=" + name +
         " --set data.train.type=episodes --set data.train.path=" + data + "/train.jsonl" +
         " --set tokenizer.vocab_size=64 --set model.embed_dim=32" +
         " --set 'model.vision={image_size: 32, patch_size: 8, width: 32, layers: 1, heads: 2}'" +
         " --set 'model.text={context_length: 24, width: 32, layers: 1, heads: 2}'" +
         " --set 'model.fusion={type: cross_attention, width: 32, layers: 1, heads: 2}'" +
         " --set 'model.head=" + head + "' --set 'loss.terms=" + loss + "'" +
         " --set 'data.augment={crop_scale: [1.0, 1.0], crop_ratio: [1.0, 1.0]}'" +
         " --set train.batch_size=16 --set train.steps=6 --set optim.warmup_steps=2" +
         " --set eval.actions.path=" + data + "/test.jsonl" +
         " --set 'eval.rollout={episodes: 3, splits: \"test,heldout\", frames: 1}'" +
         " --set eval.best_metric=rollout/test/success";
}

nlohmann::json json_file(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

TEST(Action, EpisodesTrainStopResumeAndThePolicyRollsOutReproduciblyBesideTheExpert) {
  test::TempDir dir;
  const std::string data = (dir.path() / "data").string(), runs = (dir.path() / "runs").string();
  const std::string config = dir.write("empty.yaml", "{}\n");
  const auto written = test::run_mmtrain("data tabletop --out " + data + " --episodes 12 --test-episodes 4 --image-size 32");
  ASSERT_EQ(written.exit_code, 0) << written.output;

  const std::string train = train_command(config, data, runs, "vla", "{type: action, chunk: 2}", "{action_l1: 1.0}");
  const auto stopped = test::run_mmtrain(train + " --stop-at 3");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.output;
  EXPECT_NE(stopped.output.find("action space: 3 dimensions"), std::string::npos) << stopped.output;
  const auto resumed = test::run_mmtrain(train + " --resume latest");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from"), std::string::npos) << resumed.output;
  // The resolved dimensions are in the run's config, so the checkpoint rebuilds the head alone.
  EXPECT_NE(read_text(runs + "/vla/config.yaml").find("action_dims: 3"), std::string::npos);

  const std::string metrics = read_text(runs + "/vla/metrics.jsonl");
  for (const char* key : {"\"loss/action_l1\"", "\"actions/l1\"", "\"actions/bin_accuracy\"", "\"actions/l1/",
                          "\"rollout/test/success\"", "\"rollout/heldout/episodes\""}) {
    EXPECT_NE(metrics.find(key), std::string::npos) << key;
  }
  const auto strips = test::json_lines(read_text(runs + "/vla/rollouts/rollouts.jsonl"));
  ASSERT_EQ(strips.size(), 2u);  // one per split
  EXPECT_TRUE(fs::exists(strips[0]["image"].get<std::string>()));
  ASSERT_EQ(test::run_mmtrain("report " + runs + "/vla").exit_code, 0);
  const std::string report = read_text(runs + "/vla/report.html");
  EXPECT_NE(report.find("Rollouts"), std::string::npos);
  EXPECT_NE(report.find("data:image/png;base64,"), std::string::npos);

  // A rollout is reproducible from its seed; the blind policy and the expert run the same episodes.
  const std::string checkpoint = runs + "/vla/checkpoints/latest";
  const std::string rollout = "rollout --checkpoint " + checkpoint + " --episodes 4 --split test,heldout --seed 5";
  const std::string first = (dir.path() / "first.json").string(), again = (dir.path() / "again.json").string();
  ASSERT_EQ(test::run_mmtrain(rollout + " --out " + first).exit_code, 0);
  ASSERT_EQ(test::run_mmtrain(rollout + " --out " + again + " --frames " + (dir.path() / "frames").string()).exit_code, 0);
  EXPECT_EQ(json_file(first), json_file(again));
  EXPECT_EQ(json_file(first)["rollout/test/episodes"], 4);
  EXPECT_TRUE(fs::exists(dir.path() / "frames" / "heldout_000.png"));
  const auto blind = test::run_mmtrain(rollout + " --blank-instruction");
  ASSERT_EQ(blind.exit_code, 0) << blind.output;
  EXPECT_NE(blind.output.find("rollout/heldout/success"), std::string::npos) << blind.output;
  const std::string expert = (dir.path() / "expert.json").string();
  ASSERT_EQ(test::run_mmtrain("rollout --expert --episodes 20 --split test,heldout --out " + expert).exit_code, 0);
  EXPECT_EQ(json_file(expert)["rollout/test/success"], 1.0);
  EXPECT_EQ(json_file(expert)["rollout/heldout/success"], 1.0);

  // eval reads the action space the checkpoint keeps.
  const auto evaluated = test::run_mmtrain("eval --checkpoint " + checkpoint + " --json -");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.output;
  EXPECT_NE(evaluated.output.find("\"actions/l1\""), std::string::npos) << evaluated.output;
}

TEST(Action, TheBinnedHeadTrainsWithCrossEntropyAndAMismatchedLossIsRefusedByName) {
  test::TempDir dir;
  const std::string data = (dir.path() / "data").string(), runs = (dir.path() / "runs").string();
  const std::string config = dir.write("empty.yaml", "{}\n");
  ASSERT_EQ(test::run_mmtrain("data tabletop --out " + data + " --episodes 6 --test-episodes 2 --image-size 32").exit_code, 0);
  const auto binned = test::run_mmtrain(
      train_command(config, data, runs, "bins", "{type: action, chunk: 3, bins: 16}",
                    "{action_ce: 1.0, action_point: 0.5}") +
      " --set train.steps=2 --set eval.rollout.episodes=2");
  ASSERT_EQ(binned.exit_code, 0) << binned.output;
  // The pointing term trains beside it on the written steps' targets (a finite, positive loss).
  const auto logged = test::json_lines(read_text(runs + "/bins/metrics.jsonl"));
  const auto step = std::find_if(logged.begin(), logged.end(), [](const auto& l) { return l.contains("loss/action_point"); });
  ASSERT_NE(step, logged.end());
  EXPECT_TRUE(step->contains("loss/action_ce"));
  EXPECT_GT((*step)["loss/action_point"].template get<double>(), 0.0);
  const auto mismatched = test::run_mmtrain(
      train_command(config, data, runs, "l1_on_bins", "{type: action, bins: 16}", "{action_l1: 1.0}"));
  EXPECT_EQ(mismatched.exit_code, 2) << mismatched.output;
  EXPECT_NE(mismatched.output.find("action_ce"), std::string::npos) << mismatched.output;
  // An action head on caption pairs is refused, naming what it trains on.
  ASSERT_EQ(test::run_mmtrain("data synth --out " + data + "/synth --n 32 --image-size 32").exit_code, 0);
  const auto captions = test::run_mmtrain(
      train_command(config, data, runs, "wrong_data", "{type: action}", "{action_l1: 1.0}") +
      " --set data.train.type=csv --set data.train.path=" + data + "/synth/train.csv");
  EXPECT_EQ(captions.exit_code, 2) << captions.output;
  EXPECT_NE(captions.output.find("episodes"), std::string::npos) << captions.output;
  // The pointing term on steps that never say where the named object is: refused by name.
  const std::string untargeted_path =
      dir.write("data/untargeted.jsonl", test::without_member(read_text(data + "/train.jsonl"), "target"));
  const auto pointless = test::run_mmtrain(
      train_command(config, data, runs, "no_targets", "{type: action}", "{action_l1: 1.0, action_point: 1.0}") +
      " --set data.train.path=" + untargeted_path);
  EXPECT_EQ(pointless.exit_code, 2) << pointless.output;
  EXPECT_NE(pointless.output.find("loss.terms.action_point"), std::string::npos) << pointless.output;
}

}  // namespace
}  // namespace mmtrain
