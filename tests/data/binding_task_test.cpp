#include "mmtrain/data/binding_task.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <regex>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

BindingOptions small_options(uint64_t seed = 7) {
  BindingOptions options;
  options.n = 108;  // every one of the 54 seen scenes twice
  options.seed = seed;
  options.eval_per_class = 2;
  return options;
}

bool same(const BindingObject& a, const BindingObject& b) {
  return a.colour == b.colour && a.shape == b.shape;
}

// The label of the scene with these objects on these sides, or -1.
int find_scene(const BindingClasses& classes, const BindingObject& left,
               const BindingObject& right) {
  for (size_t label = 0; label < classes.scenes.size(); ++label) {
    const BindingScene& scene = classes.scenes[label];
    if (same(scene.left, left) && same(scene.right, right)) return static_cast<int>(label);
  }
  return -1;
}

// Every file under `root` by relative path, with its bytes.
std::map<std::string, std::string> files_of(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      files[fs::relative(entry.path(), root).generic_string()] = test::read_bytes(entry.path());
    }
  }
  return files;
}

class BindingTaskTest : public ::testing::Test {
 protected:
  // Writes a data set into its own subdirectory and returns that directory.
  fs::path write(const BindingOptions& options, const std::string& name = "binding") {
    const fs::path out = dir_.path() / name;
    write_binding_dataset(out.string(), options);
    return out;
  }

  PairDataset pairs(const fs::path& out, const std::string& file) {
    return read_pair_csv((out / file).string(), "filepath", "title", '\t');
  }

  PairDataset labelled(const fs::path& out, const std::string& file) {
    return read_labelled_csv((out / file).string(), "filepath", "label", '\t');
  }

  // The scene a caption describes, from every phrasing of every scene; -1 for none.
  int scene_of(const std::string& caption) const {
    const auto found = scene_by_caption_.find(caption);
    return found == scene_by_caption_.end() ? -1 : found->second;
  }

  void SetUp() override {
    for (size_t label = 0; label < classes_.scenes.size(); ++label) {
      for (const auto& caption : binding_captions(classes_, static_cast<int>(label))) {
        scene_by_caption_.emplace(caption, static_cast<int>(label));
      }
    }
  }

  const BindingClasses classes_ = binding_classes();
  std::map<std::string, int> scene_by_caption_;
  test::TempDir dir_;
};

TEST_F(BindingTaskTest, ClassesAreOrderedScenesOfTwoObjectsThatDifferInColourAndShape) {
  ASSERT_EQ(classes_.colours, (std::vector<std::string>{"red", "green", "blue", "yellow"}));
  ASSERT_EQ(classes_.shapes, (std::vector<std::string>{"circle", "square", "triangle"}));
  ASSERT_EQ(classes_.scenes.size(), 12u * 6u) << "12 objects, each with 3 x 2 partners";
  ASSERT_EQ(classes_.names.size(), classes_.scenes.size());
  EXPECT_EQ(classes_.names[0], "red circle left of a green square");
  for (size_t label = 0; label < classes_.scenes.size(); ++label) {
    const BindingScene& scene = classes_.scenes[label];
    EXPECT_NE(scene.left.colour, scene.right.colour) << classes_.names[label];
    EXPECT_NE(scene.left.shape, scene.right.shape) << classes_.names[label];
    EXPECT_EQ(classes_.names[label], classes_.name_of(scene.left) + " left of a " +
                                         classes_.name_of(scene.right));
  }
  EXPECT_EQ(std::set<std::string>(classes_.names.begin(), classes_.names.end()).size(),
            classes_.names.size());
}

TEST_F(BindingTaskTest, ClassNamesIncludeTheSideSwappedAndColourSwappedVariantOfEveryScene) {
  for (const BindingScene& scene : classes_.scenes) {
    const BindingObject& a = scene.left;
    const BindingObject& b = scene.right;
    const BindingObject a_recoloured{b.colour, a.shape};
    const BindingObject b_recoloured{a.colour, b.shape};
    EXPECT_NE(find_scene(classes_, b, a), -1) << "sides swapped";
    EXPECT_NE(find_scene(classes_, a_recoloured, b_recoloured), -1) << "colours swapped";
    EXPECT_NE(find_scene(classes_, b_recoloured, a_recoloured), -1) << "both swapped";
  }
}

// Held-out scenes are new combinations of trained words: all three distractors that share the
// scene's bag of words are trained.
TEST_F(BindingTaskTest, OneSceneInFourIsHeldOutAndItsThreeSwappedVariantsAreTrained) {
  int held_out = 0;
  for (size_t label = 0; label < classes_.scenes.size(); ++label) {
    if (!classes_.held_out[label]) continue;
    ++held_out;
    const BindingObject& a = classes_.scenes[label].left;
    const BindingObject& b = classes_.scenes[label].right;
    const BindingObject a_recoloured{b.colour, a.shape};
    const BindingObject b_recoloured{a.colour, b.shape};
    for (int variant : {find_scene(classes_, b, a), find_scene(classes_, a_recoloured, b_recoloured),
                        find_scene(classes_, b_recoloured, a_recoloured)}) {
      ASSERT_NE(variant, -1);
      EXPECT_FALSE(classes_.held_out[variant])
          << classes_.names[variant] << " (distractor of " << classes_.names[label] << ")";
    }
  }
  EXPECT_EQ(held_out, 18);
}

// Spread evenly (18 held-out scenes over 12 objects), each object keeps four or five trained
// scenes on either side.
TEST_F(BindingTaskTest, EveryObjectIsOnEachSideOfOneOrTwoHeldOutScenes) {
  std::map<std::string, int> left, right;
  for (size_t label = 0; label < classes_.scenes.size(); ++label) {
    if (!classes_.held_out[label]) continue;
    ++left[classes_.name_of(classes_.scenes[label].left)];
    ++right[classes_.name_of(classes_.scenes[label].right)];
  }
  EXPECT_EQ(left.size(), 12u);
  EXPECT_EQ(right.size(), 12u);
  for (const auto& [object, count] : left) EXPECT_TRUE(count == 1 || count == 2) << object;
  for (const auto& [object, count] : right) EXPECT_TRUE(count == 1 || count == 2) << object;
}

TEST_F(BindingTaskTest, EveryCaptionPhrasingNamesBothObjectsAndDescribesExactlyOneScene) {
  size_t phrasings = 0;
  for (size_t label = 0; label < classes_.scenes.size(); ++label) {
    const auto captions = binding_captions(classes_, static_cast<int>(label));
    EXPECT_GE(captions.size(), 4u);
    phrasings += captions.size();
    for (const auto& caption : captions) {
      for (const BindingObject& object : {classes_.scenes[label].left, classes_.scenes[label].right}) {
        EXPECT_NE(caption.find(classes_.name_of(object)), std::string::npos) << caption;
      }
      const bool names_a_side = caption.find("left") != std::string::npos ||
                                caption.find("right") != std::string::npos;
      EXPECT_TRUE(names_a_side) << caption;
      EXPECT_EQ(scene_of(caption), static_cast<int>(label)) << caption << " is ambiguous";
    }
  }
  EXPECT_EQ(scene_by_caption_.size(), phrasings) << "no caption describes two scenes";
}

TEST_F(BindingTaskTest, TrainingCaptionsDescribeEverySeenSceneAndNoHeldOutOne) {
  const fs::path out = write(small_options());
  std::set<int> trained;
  for (const auto& sample : pairs(out, "train.csv").samples) {
    ASSERT_EQ(sample.captions.size(), 1u);
    const int label = scene_of(sample.captions[0]);
    ASSERT_NE(label, -1) << sample.captions[0];
    EXPECT_FALSE(classes_.held_out[label]) << sample.captions[0];
    trained.insert(label);
  }
  EXPECT_EQ(trained.size(), 54u) << "108 balanced pairs cover every seen scene";
}

TEST_F(BindingTaskTest, EveryObjectColourAndShapeAppearsOnBothSidesInTraining) {
  const fs::path out = write(small_options());
  std::set<std::string> left_objects, right_objects;
  std::set<int> left_colours, right_colours, left_shapes, right_shapes;
  for (const auto& sample : pairs(out, "train.csv").samples) {
    const int label = scene_of(sample.captions.at(0));
    ASSERT_NE(label, -1) << sample.captions[0];
    const BindingScene& scene = classes_.scenes[label];
    left_objects.insert(classes_.name_of(scene.left));
    right_objects.insert(classes_.name_of(scene.right));
    left_colours.insert(scene.left.colour);
    right_colours.insert(scene.right.colour);
    left_shapes.insert(scene.left.shape);
    right_shapes.insert(scene.right.shape);
  }
  EXPECT_EQ(left_objects.size(), 12u);
  EXPECT_EQ(right_objects.size(), 12u);
  EXPECT_EQ(left_colours.size(), 4u);
  EXPECT_EQ(right_colours.size(), 4u);
  EXPECT_EQ(left_shapes.size(), 3u);
  EXPECT_EQ(right_shapes.size(), 3u);
}

TEST_F(BindingTaskTest, WrittenFilesParseWithTheDatasetReaders) {
  const fs::path out = write(small_options());
  const PairDataset train = pairs(out, "train.csv");
  EXPECT_EQ(train.samples.size(), 108u);
  EXPECT_TRUE(train.bad.empty());
  const std::vector<std::string> classnames = read_lines((out / "classnames.txt").string());
  EXPECT_EQ(classnames, classes_.names) << "all scenes, seen and held out";
  for (const auto& [file, held_out, count] :
       {std::tuple{"zeroshot_seen.csv", false, 54u * 2}, std::tuple{"zeroshot_heldout.csv", true, 18u * 2}}) {
    const PairDataset set = labelled(out, file);
    EXPECT_EQ(set.samples.size(), count) << file;
    EXPECT_TRUE(set.bad.empty()) << file;
    for (const auto& sample : set.samples) {
      ASSERT_GE(sample.label, 0);
      ASSERT_LT(sample.label, static_cast<int64_t>(classnames.size()));
      EXPECT_EQ(classes_.held_out[sample.label], held_out) << file << ":" << sample.line;
      EXPECT_TRUE(fs::exists(sample.image_path)) << sample.image_path;
    }
  }
  const std::vector<std::string> templates = read_lines((out / "templates.txt").string());
  EXPECT_GE(templates.size(), 4u);
  for (const auto& line : templates) EXPECT_NE(line.find("{}"), std::string::npos) << line;
}

// The tokenizer is trained on the training captions: a character they never use would be unknown.
TEST_F(BindingTaskTest, TemplatesUseOnlyCharactersThatTheCaptionsUse) {
  const fs::path out = write(small_options());
  std::set<char> caption_letters;
  for (const auto& [caption, label] : scene_by_caption_) {
    caption_letters.insert(caption.begin(), caption.end());
  }
  for (const auto& line : read_lines((out / "templates.txt").string())) {
    for (char c : line) {
      if (c == '{' || c == '}') continue;
      EXPECT_TRUE(caption_letters.count(c)) << "'" << c << "' in " << line;
    }
  }
}

// Retrieval counts only an image's own caption as correct, so no caption may fit another image.
TEST_F(BindingTaskTest, RetrievalHasEverySceneOnceByDefault) {
  const fs::path out = write(small_options());
  const PairDataset retrieval = pairs(out, "retrieval.csv");
  std::set<int> scenes;
  for (const auto& sample : retrieval.samples) {
    ASSERT_EQ(sample.captions.size(), 1u);
    EXPECT_TRUE(fs::exists(sample.image_path)) << sample.image_path;
    scenes.insert(scene_of(sample.captions[0]));
  }
  EXPECT_EQ(retrieval.samples.size(), classes_.scenes.size());
  EXPECT_EQ(scenes.size(), classes_.scenes.size());
  EXPECT_EQ(scenes.count(-1), 0u);
}

// Which of red, green, blue, yellow a pixel shows, by hue, or -1 for the grey background. Hue
// survives the blend with grey at antialiased edges, where the nearest colour by distance may not.
int colour_of(const cv::Vec3b& bgr) {
  const double b = bgr[0], g = bgr[1], r = bgr[2];
  const double hi = std::max({r, g, b}), lo = std::min({r, g, b});
  if (hi - lo < 60) return -1;  // grey plus noise of sd 4 per channel stays far below
  double hue = hi == r ? 60 * (g - b) / (hi - lo) : hi == g ? 120 + 60 * (b - r) / (hi - lo)
                                                            : 240 + 60 * (r - g) / (hi - lo);
  if (hue < 0) hue += 360;
  // Hues of the drawing colours in synthetic_draw.h: red 0, green 125, blue 220, yellow 57.
  const std::array<double, 4> kHues{0, 125, 220, 57};
  int best = -1;
  double best_distance = 360;
  for (int c = 0; c < 4; ++c) {
    const double distance = std::min(std::abs(hue - kHues[c]), 360 - std::abs(hue - kHues[c]));
    if (distance < best_distance) best_distance = distance, best = c;
  }
  return best;
}

TEST_F(BindingTaskTest, EachObjectIsDrawnInTheHalfItsLabelSays) {
  const fs::path out = write(small_options());
  for (const auto& sample : labelled(out, "zeroshot_heldout.csv").samples) {
    const cv::Mat image = cv::imread(sample.image_path, cv::IMREAD_COLOR);
    ASSERT_EQ(image.cols, 64);
    const BindingScene& scene = classes_.scenes[sample.label];
    std::array<std::array<int, 2>, 4> count{};  // [colour][half]
    for (int y = 0; y < image.rows; ++y) {
      for (int x = 0; x < image.cols; ++x) {
        const int colour = colour_of(image.at<cv::Vec3b>(y, x));
        if (colour >= 0) ++count[colour][x >= image.cols / 2];
      }
    }
    // A small object (radius 0.12 x 64) covers about 60 pixels; stray edge pixels a few.
    EXPECT_GT(count[scene.left.colour][0], 40) << sample.image_path;
    EXPECT_LT(count[scene.left.colour][1], 5) << sample.image_path;
    EXPECT_GT(count[scene.right.colour][1], 40) << sample.image_path;
    EXPECT_LT(count[scene.right.colour][0], 5) << sample.image_path;
  }
}

TEST_F(BindingTaskTest, ImagesDecodeAsSquareThreeChannelImagesOfImageSize) {
  BindingOptions options = small_options();
  options.image_size = 48;
  const fs::path out = write(options);
  for (const auto& sample : pairs(out, "retrieval.csv").samples) {
    const cv::Mat image = cv::imread(sample.image_path, cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(image.empty()) << sample.image_path;
    EXPECT_EQ(image.rows, 48);
    EXPECT_EQ(image.cols, 48);
    EXPECT_EQ(image.channels(), 3);
  }
}

TEST_F(BindingTaskTest, SameSeedGivesIdenticalFiles) {
  const auto a = files_of(write(small_options(7), "a"));
  const auto b = files_of(write(small_options(7), "b"));
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [path, bytes] : a) {
    EXPECT_TRUE(b.count(path) && b.at(path) == bytes) << path;
  }
}

TEST_F(BindingTaskTest, DifferentSeedGivesOtherImagesAndCaptionsButTheSameClasses) {
  const auto a = files_of(write(small_options(7), "a"));
  const auto b = files_of(write(small_options(8), "b"));
  EXPECT_NE(a.at("train.csv"), b.at("train.csv"));
  EXPECT_NE(a.at("images/zeroshot_heldout/000000.png"), b.at("images/zeroshot_heldout/000000.png"));
  EXPECT_EQ(a.at("classnames.txt"), b.at("classnames.txt"));
  // The descriptions differ with the images; the labels do not.
  const auto labels = [](const std::string& table) { return std::regex_replace(table, std::regex("\t[^\t\n]*\n"), "\n"); };
  EXPECT_EQ(labels(a.at("zeroshot_heldout.csv")), labels(b.at("zeroshot_heldout.csv"))) << "labels in class order";
}

TEST_F(BindingTaskTest, InvalidOptionsAreConfigErrors) {
  BindingOptions options = small_options();
  options.image_size = 8;
  EXPECT_THROW(write(options), ConfigError);
  options = small_options();
  options.n = -1;
  EXPECT_THROW(write(options), ConfigError);
}

}  // namespace
}  // namespace mmtrain
