#include "mmtrain/sim/tabletop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "mmtrain/errors.h"
#include "support/temp_dir.h"
#include "support/text_files.h"

namespace mmtrain::tabletop {
namespace {

namespace fs = std::filesystem;

constexpr int kEpisodesPerSplit = 300;
constexpr int kRed = 0, kGreen = 1, kBlue = 2;  // scene_colours()

Object object(int colour, Kind kind, double x, double y, bool large = false) { return Object{colour, kind, large, x, y}; }

State state_of(std::vector<Object> objects, double gripper_x, double gripper_y, bool closed = false) {
  State state;
  state.objects = std::move(objects);
  state.gripper.x = gripper_x;
  state.gripper.y = gripper_y;
  state.gripper.closed = closed;
  return state;
}

Action move(double dx, double dy, bool closed) { return {dx, dy, closed ? 1.0 : 0.0}; }

// Steps until success or the step limit; the number of steps taken, or -1 on failure.
int run_expert(const Episode& episode) {
  State state = episode.state;
  for (int t = 0; t < kMaxSteps; ++t) {
    if (succeeded(state, episode.task)) return t;
    state = step(state, expert_action(state, episode.task));
  }
  return succeeded(state, episode.task) ? kMaxSteps : -1;
}

uint64_t seed_of(Split split, int i) { return 7919 * static_cast<uint64_t>(i) + 1000003 * static_cast<uint64_t>(split); }

TEST(Tabletop, TheExpertSucceedsOnEveryEpisodeOfEverySplitWithinTheStepLimit) {
  std::map<TaskType, int> tasks;
  for (Split split : {Split::train, Split::test, Split::heldout}) {
    for (int i = 0; i < kEpisodesPerSplit; ++i) {
      const Episode episode = random_episode(seed_of(split, i), split);
      ASSERT_FALSE(succeeded(episode.state, episode.task)) << episode.task.instruction;
      EXPECT_GT(run_expert(episode), 0) << split_names()[static_cast<size_t>(split)] << " episode " << i << ": "
                                        << episode.task.instruction;
      ++tasks[episode.task.type];
    }
  }
  for (TaskType type : {TaskType::pick, TaskType::place, TaskType::push}) EXPECT_GT(tasks[type], 200);
}

TEST(Tabletop, AnEpisodeIsReproducibleFromItsSeedAndItsSceneIsValid) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const Episode a = random_episode(seed, Split::train), b = random_episode(seed, Split::train);
    EXPECT_EQ(a.task.instruction, b.task.instruction);
    EXPECT_EQ(describe(a.state), describe(b.state));
    ASSERT_EQ(a.state.objects.size(), b.state.objects.size());
    ASSERT_GE(a.state.objects.size(), 4u);
    ASSERT_LE(a.state.objects.size(), 5u);
    for (size_t i = 0; i < a.state.objects.size(); ++i) EXPECT_EQ(a.state.objects[i].x, b.state.objects[i].x);
    const auto& objects = a.state.objects;
    // One bowl, and at least three pickable objects: ignoring the instruction picks the target
    // up at most about a third of the time.
    EXPECT_EQ(std::count_if(objects.begin(), objects.end(), [](const Object& o) { return o.kind == Kind::bowl; }), 1);
    EXPECT_GE(std::count_if(objects.begin(), objects.end(), [](const Object& o) { return pickable(o.kind); }), 3);
    for (size_t i = 0; i < objects.size(); ++i) {
      for (size_t j = i + 1; j < objects.size(); ++j) {
        EXPECT_FALSE(objects[i].colour == objects[j].colour && objects[i].kind == objects[j].kind) << "seed " << seed;
        EXPECT_GE(std::hypot(objects[i].x - objects[j].x, objects[i].y - objects[j].y), 0.2) << "seed " << seed;
      }
      EXPECT_GT(std::hypot(objects[i].x - a.state.gripper.x, objects[i].y - a.state.gripper.y), kGraspReach);
    }
    EXPECT_FALSE(a.state.gripper.closed);
    EXPECT_EQ(a.state.gripper.held, -1);
    const Task& task = a.task;
    EXPECT_TRUE(pickable(objects[static_cast<size_t>(task.target)].kind));
    EXPECT_NE(task.instruction.find(object_name(objects[static_cast<size_t>(task.target)])), std::string::npos);
    if (task.type == TaskType::place) {
      EXPECT_EQ(objects.at(static_cast<size_t>(task.destination)).kind, Kind::bowl);
      EXPECT_NE(task.instruction.find(object_name(objects[static_cast<size_t>(task.destination)])), std::string::npos);
    }
    if (task.type == TaskType::push) {
      EXPECT_NE(task.instruction.find(edge_names()[static_cast<size_t>(task.edge)]), std::string::npos);
    }
  }
  EXPECT_NE(describe(random_episode(1, Split::train).state), describe(random_episode(2, Split::train).state));
}

TEST(Tabletop, HeldOutPairsAreNeverTargetsInTrainOrTestAndAlwaysInHeldOut) {
  const std::vector<std::string> pairs = held_out_pairs();
  EXPECT_EQ(pairs, (std::vector<std::string>{"red cup", "blue ball", "green block"}));
  const std::set<std::string> held_out(pairs.begin(), pairs.end());
  std::set<std::string> held_out_targets;
  int held_out_distractors = 0;
  for (Split split : {Split::train, Split::test, Split::heldout}) {
    for (int i = 0; i < kEpisodesPerSplit; ++i) {
      const Episode episode = random_episode(seed_of(split, i), split);
      const auto& objects = episode.state.objects;
      const std::string target = object_name(objects[static_cast<size_t>(episode.task.target)]);
      EXPECT_EQ(held_out.count(target) == 1, split == Split::heldout) << target;
      if (split == Split::heldout) held_out_targets.insert(target);
      if (split != Split::train) continue;
      held_out_distractors += static_cast<int>(
          std::count_if(objects.begin(), objects.end(), [&](const Object& o) { return held_out.count(object_name(o)) > 0; }));
    }
  }
  EXPECT_EQ(held_out_targets, held_out);
  EXPECT_GT(held_out_distractors, 0);  // the pairs themselves are seen in training, only never as targets
}

TEST(Tabletop, ClosingGraspsTheNearestPickableObjectInReachAndItFollowsTheGripper) {
  // The bowl is nearest but not pickable; the ball is out of reach.
  State state = state_of({object(kBlue, Kind::bowl, 0.3, 0.3), object(kRed, Kind::cup, 0.33, 0.3),
                          object(kGreen, Kind::ball, 0.3, 0.36)},
                         0.3, 0.3);
  state = step(state, move(0, 0, true));
  EXPECT_TRUE(state.gripper.closed);
  ASSERT_EQ(state.gripper.held, 1);
  state = step(state, move(0.05, 0.06, true));
  EXPECT_DOUBLE_EQ(state.objects[1].x, 0.35);
  EXPECT_DOUBLE_EQ(state.objects[1].y, 0.36);
  EXPECT_DOUBLE_EQ(state.objects[0].x, 0.3);  // a closed gripper that holds something pushes nothing
  EXPECT_DOUBLE_EQ(state.objects[2].y, 0.36);
  EXPECT_EQ(proprioception(state), (std::array<float, kStateDims>{0.35f, 0.36f, 1.0f, 1.0f}));
  state = step(state, move(0, 0, false));
  EXPECT_EQ(state.gripper.held, -1);
  EXPECT_DOUBLE_EQ(state.objects[1].x, 0.35);
  // Nothing in reach: the gripper closes on nothing.
  state = step(step(state, move(0.08, 0.08, false)), move(0, 0, true));
  EXPECT_TRUE(state.gripper.closed);
  EXPECT_EQ(state.gripper.held, -1);
}

TEST(Tabletop, AnOpenGripperPassesOverObjectsWithoutMovingThem) {
  State state = state_of({object(kGreen, Kind::ball, 0.45, 0.5), object(kBlue, Kind::bowl, 0.55, 0.5)}, 0.4, 0.5);
  for (int t = 0; t < 3; ++t) state = step(state, move(0.05, 0, false));
  EXPECT_DOUBLE_EQ(state.gripper.x, 0.55);
  EXPECT_DOUBLE_EQ(state.objects[0].x, 0.45);
  EXPECT_DOUBLE_EQ(state.objects[1].x, 0.55);
}

TEST(Tabletop, AClosedEmptyGripperPushesWhatItMovesIntoAndObjectsStayOnTheTable) {
  State state = state_of({object(kGreen, Kind::ball, 0.45, 0.5), object(kRed, Kind::block, 0.45, 0.8)}, 0.4, 0.5, true);
  state = step(state, move(0.05, 0, true));
  EXPECT_DOUBLE_EQ(state.objects[0].x, 0.5);
  EXPECT_DOUBLE_EQ(state.objects[1].x, 0.45);  // out of the way
  state = step(state, move(0.5, 0, true));     // clipped to kMaxStep
  EXPECT_DOUBLE_EQ(state.gripper.x, 0.45 + kMaxStep);
  EXPECT_DOUBLE_EQ(state.objects[0].x, 0.5 + kMaxStep);
  State edge = state_of({object(kGreen, Kind::ball, 0.07, 0.5)}, 0.1, 0.5, true);
  edge = step(edge, move(-kMaxStep, 0, true));
  EXPECT_DOUBLE_EQ(edge.objects[0].x, kSmallRadius);
  EXPECT_DOUBLE_EQ(edge.gripper.x, 0.1 - kMaxStep);
}

TEST(Tabletop, ReleasingTheTargetInsideTheBowlCompletesAPlace) {
  State state = state_of({object(kBlue, Kind::bowl, 0.5, 0.5), object(kRed, Kind::cup, 0.7, 0.5)}, 0.7, 0.5);
  Task task;
  task.type = TaskType::place;
  task.target = 1;
  task.destination = 0;
  state = step(state, move(0, 0, true));
  ASSERT_EQ(state.gripper.held, 1);
  EXPECT_FALSE(succeeded(step(state, move(0, 0, false)), task));  // released outside the bowl
  state = step(state, move(-0.08, 0, true));
  state = step(state, move(-0.08, 0, true));
  EXPECT_FALSE(succeeded(state, task));  // over the bowl but still held
  Task pick = task;
  pick.type = TaskType::pick;
  EXPECT_TRUE(succeeded(state, pick));
  state = step(state, move(0, 0, false));
  EXPECT_TRUE(succeeded(state, task));
  EXPECT_FALSE(succeeded(state, pick));
}

// The sum of the channels of the pixel at table coordinates (x, y).
int brightness(const cv::Mat& image, double x, double y) {
  const auto pixel = [&](double v) { return static_cast<int>(std::lround(v * image.cols)); };
  const cv::Vec3b bgr = image.at<cv::Vec3b>(cv::Point(pixel(x), pixel(y)));
  return bgr[0] + bgr[1] + bgr[2];
}

TEST(Tabletop, RenderingIsDeterministicAndShowsTheGripperOpenOrClosed) {
  const cv::Mat open = render(state_of({}, 0.5, 0.5), 64, 3), again = render(state_of({}, 0.5, 0.5), 64, 3);
  ASSERT_EQ(open.size(), cv::Size(64, 64));
  ASSERT_EQ(open.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(open, again, cv::NORM_INF), 0.0);
  const cv::Mat closed = render(state_of({}, 0.5, 0.5, true), 64, 3), elsewhere = render(state_of({}, 0.2, 0.2), 64, 3);
  const double open_jaw = 0.5 + 0.04;  // where a jaw is when open, not when closed
  EXPECT_LT(brightness(open, open_jaw, 0.5), 250);
  EXPECT_GT(brightness(closed, open_jaw, 0.5), 350);
  EXPECT_GT(brightness(elsewhere, open_jaw, 0.5), 350);
  EXPECT_LT(brightness(elsewhere, 0.2, 0.2), 250);  // the dot between the jaws
  EXPECT_GT(cv::norm(open, closed, cv::NORM_L1), 0.0);
}

TEST(Tabletop, ACupShowsTheTableInItsMiddleABallIsRoundAndABlockSquare) {
  const State shapes = state_of({object(kRed, Kind::cup, 0.25, 0.25, true), object(kRed, Kind::ball, 0.75, 0.25, true),
                                 object(kRed, Kind::block, 0.25, 0.75, true)},
                                0.8, 0.8);
  const cv::Mat drawn = render(shapes, 128, 5), table = render(state_of({}, 0.8, 0.8), 128, 5);
  const auto contrast = [&](double x, double y) { return std::abs(brightness(drawn, x, y) - brightness(table, x, y)); };
  const double rim = 0.06, corner = 0.058;  // a corner of the block lies outside a ball of the same size
  EXPECT_LT(contrast(0.25, 0.25), 40);
  EXPECT_GT(contrast(0.25 + rim, 0.25), 100);
  EXPECT_GT(contrast(0.75, 0.25), 100);
  EXPECT_LT(contrast(0.75 + corner, 0.25 + corner), 90);
  EXPECT_GT(contrast(0.25, 0.75), 100);
  EXPECT_GT(contrast(0.25 + corner, 0.75 + corner), 100);
}

TEST(Tabletop, DescriptionsNameEachObjectWithItsSizeAndRegion) {
  const State state = state_of({object(kRed, Kind::cup, 0.1, 0.1), object(kBlue, Kind::bowl, 0.5, 0.5),
                                object(kGreen, Kind::ball, 0.9, 0.9, true), object(kBlue, Kind::block, 0.1, 0.5)},
                               0.5, 0.1);
  EXPECT_EQ(describe(state),
            "a red cup at the top left, a blue bowl in the centre, a large green ball at the bottom right, "
            "a blue block on the left");
  EXPECT_EQ(split_from_name("heldout", "eval.split"), Split::heldout);
  EXPECT_THROW(split_from_name("valid", "eval.split"), ConfigError);
}

std::string first_image(const std::string& split, int episode) {
  char name[32];
  std::snprintf(name, sizeof name, "%06d_000.png", episode);
  return "images/" + split + "/" + name;
}

// What each task's last step must look like in the written proprioception and action.
void expect_finishing_step(const nlohmann::json& line) {
  const std::string task = line["task"];
  const auto& state = line["state"];
  const auto& action = line["action"];
  if (task == "pick") {  // closes on the target
    EXPECT_EQ(state[2], 0.0);
    EXPECT_EQ(action[2], 1.0);
  } else if (task == "place") {  // lets go of it
    EXPECT_EQ(state[3], 1.0);
    EXPECT_EQ(action[2], 0.0);
  } else {  // a lowered, empty gripper moves
    EXPECT_EQ(task, "push");
    EXPECT_EQ(state[2], 1.0);
    EXPECT_EQ(state[3], 0.0);
    EXPECT_DOUBLE_EQ(std::max(std::abs(action[0].get<double>()), std::abs(action[1].get<double>())), kMaxStep);
  }
}

double distance_to_gripper(const nlohmann::json& line) {
  return std::hypot(line["target"][0].get<double>() - line["state"][0].get<double>(),
                    line["target"][1].get<double>() - line["state"][1].get<double>());
}

// Where the first image's caption puts the object the instruction names first (its {X}): "at the
// top left", ... as describe() writes it.
std::string caption_region_of_target(const std::string& caption, const std::string& instruction) {
  size_t best = std::string::npos;
  std::string region;
  std::istringstream entries(caption);
  for (std::string entry; std::getline(entries, entry, ',');) {
    entry = entry.substr(entry.find("a ") + 2);
    if (entry.rfind("large ", 0) == 0) entry = entry.substr(6);
    const size_t name_end = entry.find(' ', entry.find(' ') + 1);  // "red cup"
    const size_t at = instruction.find(" " + entry.substr(0, name_end));
    if (at < best) best = at, region = entry.substr(name_end + 1);
  }
  return region;
}

std::string region_of(double x, double y) {
  static const char* const phrases[3][3] = {{"at the top left", "at the top", "at the top right"},
                                            {"on the left", "in the centre", "on the right"},
                                            {"at the bottom left", "at the bottom", "at the bottom right"}};
  const auto third = [](double v) { return std::clamp(static_cast<int>(v * 3), 0, 2); };
  return phrases[third(y)][third(x)];
}

// Each step's "target" is where the named object is: in the region the first caption gives it,
// under the gripper whenever the gripper holds something (the expert grasps nothing else), and
// under the gripper as a pick closes on it.
void expect_target_on_named_object(const nlohmann::json& line, const std::string& first_caption, bool last) {
  ASSERT_EQ(line["target"].size(), 2u);
  for (const auto& v : line["target"]) {
    EXPECT_GE(v.get<double>(), 0.0);
    EXPECT_LE(v.get<double>(), 1.0);
  }
  const double reach = kGraspReach + 2e-4;  // 4 written decimals on both sides
  if (line["state"][3] == 1.0) {
    EXPECT_LE(distance_to_gripper(line), reach) << line.dump();
  }
  if (last && line["task"] == "pick") {
    EXPECT_LE(distance_to_gripper(line), reach) << line.dump();
  }
  if (line["step"] == 0) {
    EXPECT_EQ(region_of(line["target"][0], line["target"][1]),
              caption_region_of_target(first_caption, line["instruction"]))
        << line.dump() << " " << first_caption;
  }
}

TEST(Tabletop, TheWrittenDemonstrationsListImagesThatExistAndEveryEpisodeEndsInItsTasksSuccess) {
  test::TempDir dir;
  TabletopOptions options;
  options.train_episodes = 3;
  options.test_episodes = 2;
  write_tabletop_dataset(dir.path().string(), options);
  for (const auto& [split, episodes] : std::map<std::string, int>{{"train", 3}, {"test", 2}, {"heldout", 2}}) {
    const auto lines = test::json_lines(test::read_text(dir.path() / (split + ".jsonl")));
    ASSERT_FALSE(lines.empty()) << split;
    std::vector<std::string> first_captions;  // the caption of each episode's first image
    std::istringstream caption_rows(test::read_text(dir.path() / (split + "_captions.csv")));
    std::string caption_row;
    std::getline(caption_rows, caption_row);
    while (std::getline(caption_rows, caption_row)) {
      const size_t quote = caption_row.find(",\"");
      first_captions.push_back(caption_row.substr(quote + 2, caption_row.size() - quote - 3));
    }
    ASSERT_EQ(static_cast<int>(first_captions.size()), episodes) << split;
    int episode = 0, next_step = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      const auto& line = lines[i];
      if (line["episode"] != episode) {
        EXPECT_EQ(line["episode"], ++episode);
        next_step = 0;
      }
      EXPECT_EQ(line["step"], next_step++);
      EXPECT_TRUE(fs::exists(dir.path() / line["image"].get<std::string>())) << line["image"];
      EXPECT_EQ(line["state"].size(), 4u);
      EXPECT_EQ(line["action"].size(), 3u);
      EXPECT_FALSE(line["instruction"].get<std::string>().empty());
      const bool last = i + 1 == lines.size() || lines[i + 1]["episode"] != episode;
      if (last) expect_finishing_step(line);
      expect_target_on_named_object(line, first_captions.at(static_cast<size_t>(episode)), last);
    }
    EXPECT_EQ(episode + 1, episodes) << split;
    std::istringstream captions(test::read_text(dir.path() / (split + "_captions.csv")));
    std::string row;
    std::getline(captions, row);
    EXPECT_EQ(row, "image,caption");
    int rows = 0;
    for (; std::getline(captions, row); ++rows) {
      EXPECT_EQ(row.rfind(first_image(split, rows) + ",\"a ", 0), 0u) << row;
    }
    EXPECT_EQ(rows, episodes) << split;
  }
}

}  // namespace
}  // namespace mmtrain::tabletop
