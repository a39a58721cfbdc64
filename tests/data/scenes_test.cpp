#include "mmtrain/data/scenes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "mmtrain/data/dataset.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

int colour_index(const std::string& name) {
  const auto& colours = scene_colours();
  return int(std::find(colours.begin(), colours.end(), name) - colours.begin());
}
int shape_index(const std::string& name) {
  const auto& shapes = scene_shapes();
  return int(std::find(shapes.begin(), shapes.end(), name) - shapes.begin());
}

// "the red circle", "the circle" or "the red object": the one object so named, or none.
const SceneObject* named_object(const Scene& scene, const std::string& phrase) {
  std::smatch n;
  std::vector<const SceneObject*> named;
  for (const auto& o : scene.objects) {
    bool hit = false;
    if (std::regex_match(phrase, n, std::regex("the (\\w+) object"))) {
      hit = o.colour == colour_index(n[1]);
    } else if (std::regex_match(phrase, n, std::regex("the (\\w+) (\\w+)"))) {
      hit = o.colour == colour_index(n[1]) && o.shape == shape_index(n[2]);
    } else if (std::regex_match(phrase, n, std::regex("the (\\w+)"))) {
      hit = o.shape == shape_index(n[1]);
    }
    if (hit) named.push_back(&o);
  }
  return named.size() == 1 ? named.front() : nullptr;
}

// What the scene says about a question, computed here from the objects (not from the generator's
// askers): the answer a correct model must give.
std::string expected_answer(const Scene& scene, const std::string& question) {
  std::smatch m;
  const auto& colours = scene_colours();
  const auto& shapes = scene_shapes();
  auto find = [&](const std::string& colour, const std::string& shape) -> const SceneObject* {
    for (const auto& o : scene.objects) {
      if (o.colour == colour_index(colour) && o.shape == shape_index(shape)) return &o;
    }
    return nullptr;
  };
  auto count = [&](auto pick) { return std::to_string(std::count_if(scene.objects.begin(), scene.objects.end(), pick)); };
  if (std::regex_match(question, m, std::regex("what (colour|shape|size) is (the [\\w ]+)\\?"))) {
    const SceneObject* o = named_object(scene, m[2]);
    if (!o) return "?";
    return m[1] == "colour" ? colours[o->colour] : m[1] == "shape" ? shapes[o->shape] : o->large ? "large" : "small";
  }
  if (std::regex_match(question, m, std::regex("how many (\\w+) objects are there\\?"))) {
    return count([&](const SceneObject& o) { return o.colour == colour_index(m[1]); });
  }
  if (std::regex_match(question, m, std::regex("how many (\\w+)s are there\\?"))) {
    return count([&](const SceneObject& o) { return o.shape == shape_index(m[1]); });
  }
  if (std::regex_match(question, m, std::regex("is (the [\\w ]+) (on the left or the right|at the top or the bottom)\\?"))) {
    const SceneObject* o = named_object(scene, m[1]);
    if (!o) return "?";
    if (m[2] == "on the left or the right") return std::abs(o->x - 0.5) > 0.12 ? (o->x < 0.5 ? "left" : "right") : "?";
    return std::abs(o->y - 0.5) > 0.12 ? (o->y < 0.5 ? "top" : "bottom") : "?";
  }
  if (std::regex_match(question, m, std::regex("is there a (\\w+) (\\w+)\\?"))) return find(m[1], m[2]) ? "yes" : "no";
  if (std::regex_match(question, m, std::regex("is the (\\w+) (\\w+) (left of|right of|above|below|larger than|the same size as) the (\\w+) (\\w+)\\?"))) {
    const SceneObject* a = find(m[1], m[2]);
    const SceneObject* b = find(m[4], m[5]);
    if (!a || !b) return "?";
    const std::string relation = m[3];
    bool holds = relation == "left of" ? a->x < b->x : relation == "right of" ? a->x > b->x
               : relation == "above" ? a->y < b->y : relation == "below" ? a->y > b->y
               : relation == "larger than" ? a->large && !b->large : a->large == b->large;
    return holds ? "yes" : "no";
  }
  return "?";
}

// The one object a question is about, read off the question here (not from the generator): the
// object named by a colour, shape, size or position question, the object an existence question
// finds; none for counts, absent objects and the two-object questions.
const SceneObject* object_asked_about(const Scene& scene, const std::string& question) {
  std::smatch m;
  if (std::regex_match(question, m, std::regex("what (colour|shape|size) is (the [\\w ]+)\\?")) ||
      std::regex_match(question, m, std::regex("is ()(the [\\w ]+) (on the left or the right|at the top or the bottom)\\?"))) {
    return named_object(scene, m[2]);
  }
  if (std::regex_match(question, m, std::regex("is there a (\\w+ \\w+)\\?"))) return named_object(scene, "the " + m[1].str());
  return nullptr;
}

TEST(Scenes, TheSameSeedGivesTheSameSceneAndObjectsDifferInColourOrShapeAndDoNotOverlap) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const Scene a = random_scene(seed), b = random_scene(seed);
    ASSERT_EQ(a.objects.size(), b.objects.size());
    ASSERT_GE(a.objects.size(), 2u);
    ASSERT_LE(a.objects.size(), 4u);
    for (size_t i = 0; i < a.objects.size(); ++i) {
      EXPECT_EQ(a.objects[i].x, b.objects[i].x);
      for (size_t j = i + 1; j < a.objects.size(); ++j) {
        const auto &p = a.objects[i], &q = a.objects[j];
        EXPECT_FALSE(p.colour == q.colour && p.shape == q.shape) << "seed " << seed;
        EXPECT_GT(std::hypot(p.x - q.x, p.y - q.y), 0.13 * (p.large + q.large) + 0.075 * (2 - p.large - q.large))
            << "seed " << seed << ": objects " << i << " and " << j << " overlap";
      }
    }
  }
  EXPECT_NE(random_scene(1).objects.front().x, random_scene(2).objects.front().x);
}

TEST(Scenes, EveryAnswerIsWhatTheSceneShowsAndTheHeldOutCombinationsAreAskedOnlyInTheHeldOutSplit) {
  std::map<std::string, int> types;
  int held_out = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    const Scene scene = random_scene(seed);
    for (const auto& q : scene_questions(scene, seed + 1000, 8, false)) {
      EXPECT_EQ(q.answer, expected_answer(scene, q.question)) << q.question;
      EXPECT_FALSE(q.held_out);
      // Never the colour of a triangle nor the shape of a green object, however it is named.
      std::smatch m;
      if (std::regex_match(q.question, m, std::regex("what (colour|shape) is (the [\\w ]+)\\?"))) {
        const SceneObject* o = named_object(scene, m[2]);
        ASSERT_NE(o, nullptr) << q.question;
        if (m[1] == "colour") {
          EXPECT_NE(o->shape, shape_index("triangle")) << q.question;
        } else {
          EXPECT_NE(o->colour, colour_index("green")) << q.question;
        }
      }
      ++types[q.type];
    }
    for (const auto& q : scene_questions(scene, seed + 2000, 2, true)) {
      EXPECT_EQ(q.answer, expected_answer(scene, q.question)) << q.question;
      EXPECT_TRUE(q.held_out);
      const bool combination = q.question == "what colour is the triangle?" || q.question == "what shape is the green object?";
      EXPECT_TRUE(combination) << q.question;
      ++held_out;
    }
  }
  for (const char* type : {"colour", "shape", "count", "existence", "size", "position", "spatial", "comparison"}) {
    EXPECT_GT(types[type], 100) << type;  // every type is asked, and often
  }
  EXPECT_GT(held_out, 50);
}

TEST(Scenes, AQuestionsTargetIsThePlaceOfTheOneObjectItIsAboutAndNoneOtherwise) {
  std::map<std::string, int> targeted;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const Scene scene = random_scene(seed);
    for (bool held_out : {false, true}) {
      for (const auto& q : scene_questions(scene, seed + (held_out ? 2000 : 1000), 8, held_out)) {
        const SceneObject* o = object_asked_about(scene, q.question);
        if (!o) {
          EXPECT_TRUE(q.target.empty()) << q.question;
          continue;
        }
        ASSERT_EQ(q.target.size(), 2u) << q.question;
        EXPECT_EQ(q.target[0], o->x) << q.question;
        EXPECT_EQ(q.target[1], o->y) << q.question;
        ++targeted[q.type];
      }
    }
  }
  for (const char* type : {"colour", "shape", "existence", "size", "position"}) {
    EXPECT_GT(targeted[type], 50) << type;
  }
  EXPECT_EQ(targeted.count("count") + targeted.count("spatial") + targeted.count("comparison"), 0u);
}

TEST(Scenes, RenderingIsDeterministicAndShowsEveryObjectsColourAtItsCentre) {
  const Scene scene = random_scene(5);
  const cv::Mat a = render_scene(scene, 64, 9), b = render_scene(scene, 64, 9);
  ASSERT_EQ(a.size(), cv::Size(64, 64));
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
  const cv::Mat table = render_scene(Scene{{}, scene.table_shade}, 64, 9);
  for (const auto& o : scene.objects) {
    const cv::Point centre(int(o.x * 64), int(o.y * 64));
    const cv::Vec3b object = a.at<cv::Vec3b>(centre), empty = table.at<cv::Vec3b>(centre);
    EXPECT_GT(cv::norm(cv::Vec3d(object) - cv::Vec3d(empty)), 60.0) << object_name(o, true);
  }
}

TEST(Scenes, WrittenSplitsListImagesThatExistAndReadAsQuestionAnswerData) {
  test::TempDir dir;
  ScenesOptions options;
  options.train_scenes = 30;
  options.test_scenes = 20;
  options.questions_per_scene = 3;
  write_scenes_dataset(dir.path().string(), options);
  PairSourceConfig source;
  source.type = "vqa";
  source.path = (dir.path() / "train.jsonl").string();
  const PairDataset train = read_pair_source(source, "test");
  EXPECT_TRUE(train.bad.empty());
  EXPECT_EQ(train.samples.size(), 90u);
  int targeted = 0;
  for (const auto& sample : train.samples) {
    ASSERT_TRUE(fs::exists(sample.image_path)) << sample.image_path;
    ASSERT_EQ(sample.answers.size(), 1u);
    EXPECT_FALSE(sample.question_type.empty());
    // The written target reads back: a place inside the image, or none.
    ASSERT_TRUE(sample.target.empty() || sample.target.size() == 2u);
    for (float v : sample.target) EXPECT_TRUE(v > 0.0f && v < 1.0f) << v;
    targeted += !sample.target.empty();
  }
  EXPECT_GT(targeted, 0);
  EXPECT_LT(targeted, 90);
  source.path = (dir.path() / "heldout.jsonl").string();
  const PairDataset held_out = read_pair_source(source, "test");
  EXPECT_GT(held_out.samples.size(), 0u);
  for (const auto& sample : held_out.samples) EXPECT_NE(sample.image_path.find("images/test/"), std::string::npos);
  // The scene records name every object of every image.
  std::ifstream scenes(dir.path() / "test_scenes.jsonl");
  int lines = 0;
  for (std::string line; std::getline(scenes, line); ++lines) {
    EXPECT_GE(nlohmann::json::parse(line)["objects"].size(), 2u);
  }
  EXPECT_EQ(lines, 20);
}

}  // namespace
}  // namespace mmtrain
