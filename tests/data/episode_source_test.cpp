// Robot episodes read from JSON lines, and the action space their actions are scaled by.
#include <gtest/gtest.h>

#include "mmtrain/data/action_space.h"
#include "mmtrain/data/dataset.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

PairSourceConfig episodes_config(const std::string& path) {
  PairSourceConfig config;
  config.type = "episodes";
  config.path = path;
  return config;
}

std::string step_line(const std::string& episode, int step, double dx, double grip) {
  return "{\"episode\": " + episode + ", \"step\": " + std::to_string(step) + ", \"image\": \"step" +
         std::to_string(step) + ".png\", \"instruction\": \"pick up the red cup\", \"task\": \"pick\", " +
         "\"state\": [0.5, 0.5, 0, 0], \"action\": [" + std::to_string(dx) + ", 0.0, " + std::to_string(grip) + "]}\n";
}

TEST(Episodes, StepsAreGroupedByEpisodeInStepOrderAndBadRowsAreCounted) {
  test::TempDir dir;
  const std::string path = dir.write(
      "steps.jsonl", step_line("7", 1, 0.02, 0) + step_line("\"run-b\"", 0, -0.08, 0) + step_line("7", 0, 0.08, 0) +
                         "{\"episode\": 7, \"step\": 2, \"image\": \"x.png\", \"instruction\": \"a\", \"state\": [1], "
                         "\"action\": [0, 0, 1]}\n" +
                         "not json\n" + step_line("7", 2, 0.0, 1));
  const PairDataset data = read_pair_source(episodes_config(path), "data.train");
  ASSERT_EQ(data.samples.size(), 4u);
  EXPECT_EQ(data.bad.size(), 2u);  // the short state, the broken line
  // Episode 7 first (it appears first), its steps 0, 1, 2; then run-b.
  EXPECT_EQ(data.samples[0].episode, 0);
  EXPECT_FLOAT_EQ(data.samples[0].action[0], 0.08f);
  EXPECT_FLOAT_EQ(data.samples[1].action[0], 0.02f);
  EXPECT_FLOAT_EQ(data.samples[2].action[2], 1.0f);
  EXPECT_EQ(data.samples[3].episode, 1);
  EXPECT_EQ(data.samples[3].captions.front(), "pick up the red cup");
  EXPECT_EQ(data.samples[3].question_type, "pick");
  EXPECT_EQ(data.samples[3].state.size(), 4u);
}

TEST(Episodes, TheNamedObjectsPlaceIsReadWhereALineGivesItAndABadOneIsCounted) {
  test::TempDir dir;
  std::string with_target = step_line("3", 0, 0.02, 0);
  with_target.insert(with_target.rfind('}'), ", \"target\": [0.25, 0.75]");
  std::string bad_target = step_line("3", 1, 0.02, 0);
  bad_target.insert(bad_target.rfind('}'), ", \"target\": [0.25]");
  const std::string path = dir.write("steps.jsonl", with_target + bad_target + step_line("3", 2, 0.0, 1));
  const PairDataset data = read_pair_source(episodes_config(path), "data.train");
  ASSERT_EQ(data.samples.size(), 2u);
  ASSERT_EQ(data.bad.size(), 1u);
  EXPECT_NE(data.bad.front().reason.find("\"target\""), std::string::npos) << data.bad.front().reason;
  EXPECT_EQ(data.samples[0].target, (std::vector<float>{0.25f, 0.75f}));
  EXPECT_TRUE(data.samples[1].target.empty());  // the line says nothing: the pointing loss skips it
}

TEST(ActionSpace, ScalesOverTheDataRangeAndChunksRepeatTheEpisodesLastAction) {
  test::TempDir dir;
  const std::string path =
      dir.write("steps.jsonl", step_line("0", 0, 0.08, 0) + step_line("0", 1, -0.04, 1) + step_line("1", 0, -0.08, 0));
  const PairDataset data = read_pair_source(episodes_config(path), "data.train");
  const ActionSpace space = ActionSpace::build(data);
  ASSERT_EQ(space.dims(), 3);
  EXPECT_FLOAT_EQ(space.low()[0], -0.08f);
  EXPECT_FLOAT_EQ(space.high()[0], 0.08f);
  EXPECT_FLOAT_EQ(space.scale(0, 0.08f), 1.0f);
  EXPECT_FLOAT_EQ(space.scale(0, -0.04f), -0.5f);
  EXPECT_FLOAT_EQ(space.scale(1, 0.0f), 0.0f);  // never varies
  EXPECT_NEAR(space.unscale(0, space.scale(0, 0.03f)), 0.03f, 1e-7);
  EXPECT_EQ(ActionSpace::from_text(space.to_text()).to_text(), space.to_text());

  float chunk[3 * 3];
  space.fill_chunk(data, 0, 3, chunk);
  EXPECT_FLOAT_EQ(chunk[0], 1.0f);   // step 0's dx
  EXPECT_FLOAT_EQ(chunk[3], -0.5f);  // step 1's dx
  EXPECT_FLOAT_EQ(chunk[6], -0.5f);  // past the end: step 1 again, not episode 1's first step
  EXPECT_FLOAT_EQ(chunk[8], 1.0f);   // its grip, closed
  // Bins: the edges and the centres.
  EXPECT_EQ(ActionSpace::bin_of(-1.0f, 256), 0);
  EXPECT_EQ(ActionSpace::bin_of(1.0f, 256), 255);
  EXPECT_EQ(ActionSpace::bin_of(ActionSpace::bin_centre(17, 256), 256), 17);
}

}  // namespace
}  // namespace mmtrain
