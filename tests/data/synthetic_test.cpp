#include "mmtrain/data/synthetic.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <string>
#include <vector>

#include "mmtrain/data/csv.h"
#include "mmtrain/errors.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

SynthOptions small_options(uint64_t seed = 7) {
  SynthOptions options;
  options.n = 60;
  options.seed = seed;
  options.eval_per_class = 2;
  options.retrieval_n = 10;
  return options;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out(1);
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      out.back() += c;
    } else if (!out.back().empty()) {
      out.emplace_back();
    }
  }
  if (out.back().empty()) out.pop_back();
  return out;
}

// The one word of `text` that is in `vocabulary`, or "" when there is none or more than one.
std::string only_word_from(const std::string& text, const std::vector<std::string>& vocabulary) {
  std::string found;
  for (const std::string& word : words(text)) {
    if (std::find(vocabulary.begin(), vocabulary.end(), word) == vocabulary.end()) continue;
    if (!found.empty()) return "";
    found = word;
  }
  return found;
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::vector<std::string> lines;
  std::string text = test::read_bytes(path);
  for (size_t start = 0, end; start < text.size(); start = end + 1) {
    end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

class SyntheticDatasetTest : public ::testing::Test {
 protected:
  // Writes a data set into its own subdirectory and returns that directory.
  fs::path write(const SynthOptions& options, const std::string& name = "synth") {
    const fs::path out = dir_.path() / name;
    write_synthetic_dataset(out.string(), options);
    return out;
  }

  CsvTable table(const fs::path& out, const std::string& file) {
    return read_csv((out / file).string(), '\t');
  }

  const SynthClasses classes_ = synthetic_classes();
  test::TempDir dir_;
};

TEST_F(SyntheticDatasetTest, ClassesAreColourShapeCombinationsWithFourHeldOut) {
  ASSERT_EQ(classes_.names.size(), 24u);
  EXPECT_EQ(classes_.names[0], "red circle");
  EXPECT_EQ(classes_.names[1 * 4 + 3], "green star");
  std::set<std::string> held_out;
  std::set<std::string> seen_words;
  for (size_t label = 0; label < classes_.names.size(); ++label) {
    if (classes_.held_out[label]) {
      held_out.insert(classes_.names[label]);
    } else {
      for (const auto& word : words(classes_.names[label])) seen_words.insert(word);
    }
  }
  EXPECT_EQ(held_out, (std::set<std::string>{"purple triangle", "orange circle", "green star",
                                             "yellow square"}));
  for (const auto& word : classes_.colours) EXPECT_TRUE(seen_words.count(word)) << word;
  for (const auto& word : classes_.shapes) EXPECT_TRUE(seen_words.count(word)) << word;
}

TEST_F(SyntheticDatasetTest, WritesAllFilesWithHeadersAndRowCounts) {
  const fs::path out = write(small_options());
  struct Expected {
    const char* file;
    std::vector<std::string> header;
    size_t rows;
  };
  for (const Expected& e : {Expected{"train.csv", {"filepath", "title", "description"}, 60},
                            Expected{"zeroshot_seen.csv", {"filepath", "label", "description"}, 20 * 2},
                            Expected{"zeroshot_heldout.csv", {"filepath", "label", "description"}, 4 * 2},
                            Expected{"retrieval.csv", {"filepath", "title"}, 10}}) {
    const CsvTable t = table(out, e.file);
    EXPECT_EQ(t.header, e.header) << e.file;
    EXPECT_EQ(t.rows.size(), e.rows) << e.file;
    EXPECT_TRUE(t.bad_rows.empty()) << e.file;
    for (const auto& row : t.rows) EXPECT_TRUE(fs::exists(out / row.fields[0])) << row.fields[0];
  }
  EXPECT_EQ(lines_of(out / "classnames.txt"), classes_.names);
  const std::vector<std::string> templates = lines_of(out / "templates.txt");
  EXPECT_GE(templates.size(), 5u);
  for (const auto& line : templates) EXPECT_NE(line.find("{}"), std::string::npos) << line;
}

TEST_F(SyntheticDatasetTest, ImagePathsAreRelativeAndDistinctAcrossSplits) {
  const fs::path out = write(small_options());
  std::set<std::string> paths;
  size_t rows = 0;
  for (const char* file :
       {"train.csv", "zeroshot_seen.csv", "zeroshot_heldout.csv", "retrieval.csv"}) {
    for (const auto& row : table(out, file).rows) {
      EXPECT_TRUE(fs::path(row.fields[0]).is_relative()) << row.fields[0];
      paths.insert(row.fields[0]);
      ++rows;
    }
  }
  EXPECT_EQ(paths.size(), rows);
  EXPECT_EQ(table(out, "train.csv").rows[0].fields[0], "images/train/000000.png");
}

TEST_F(SyntheticDatasetTest, EveryCaptionNamesOneColourAndOneShape) {
  const fs::path out = write(small_options());
  for (const char* file : {"train.csv", "retrieval.csv"}) {
    for (const auto& row : table(out, file).rows) {
      const std::string& title = row.fields[1];
      EXPECT_NE(only_word_from(title, classes_.colours), "") << title;
      EXPECT_NE(only_word_from(title, classes_.shapes), "") << title;
    }
  }
}

// The captioning task's target: "a large red circle on the left", every attribute in one phrasing,
// the same colour and shape as the image's caption, with the attribute groups written beside it.
TEST_F(SyntheticDatasetTest, DescriptionsNameSizeColourShapeAndPositionInOnePhrasing) {
  const fs::path out = write(small_options());
  const std::vector<std::string> positions = {"on the left", "on the right", "at the top", "at the bottom",
                                              "in the center"};
  for (const auto& row : table(out, "train.csv").rows) {
    const std::string& title = row.fields[1];
    const std::string& description = row.fields[2];
    const auto w = words(description);
    ASSERT_GE(w.size(), 6u) << description;
    EXPECT_TRUE(w[0] == "a" || w[0] == "an") << description;
    EXPECT_TRUE(w[1] == "large" || w[1] == "small") << description;
    EXPECT_EQ(w[2], only_word_from(title, classes_.colours)) << description;
    EXPECT_EQ(w[3], only_word_from(title, classes_.shapes)) << description;
    const std::string position = description.substr(description.find(w[3]) + w[3].size() + 1);
    EXPECT_NE(std::find(positions.begin(), positions.end(), position), positions.end()) << description;
  }
  const auto groups = lines_of(out / "caption_attributes.txt");
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(groups[0], "size: large|small");
  EXPECT_EQ(groups[3], "position: on the left|on the right|at the top|at the bottom|in the center");
}

TEST_F(SyntheticDatasetTest, HeldOutClassesNeverAppearInTrainingCaptions) {
  const fs::path out = write(small_options());
  std::set<std::string> trained;
  for (const auto& row : table(out, "train.csv").rows) {
    const std::string& title = row.fields[1];
    const std::string name =
        only_word_from(title, classes_.colours) + " " + only_word_from(title, classes_.shapes);
    const auto label = std::find(classes_.names.begin(), classes_.names.end(), name);
    ASSERT_NE(label, classes_.names.end()) << title;
    EXPECT_FALSE(classes_.held_out[label - classes_.names.begin()]) << title;
    trained.insert(name);
  }
  EXPECT_EQ(trained.size(), 20u) << "60 balanced pairs cover every seen class";
}

TEST_F(SyntheticDatasetTest, ZeroShotLabelsIndexSeenAndHeldOutClasses) {
  const fs::path out = write(small_options());
  for (const auto& [file, held_out] :
       {std::pair{"zeroshot_seen.csv", false}, std::pair{"zeroshot_heldout.csv", true}}) {
    std::vector<int> per_class(classes_.names.size());
    for (const auto& row : table(out, file).rows) {
      const int label = std::stoi(row.fields[1]);
      ASSERT_GE(label, 0);
      ASSERT_LT(label, static_cast<int>(classes_.names.size()));
      EXPECT_EQ(classes_.held_out[label], held_out) << file << " label " << label;
      ++per_class[label];
    }
    for (size_t label = 0; label < per_class.size(); ++label) {
      EXPECT_EQ(per_class[label], classes_.held_out[label] == held_out ? 2 : 0) << file;
    }
  }
}

TEST_F(SyntheticDatasetTest, ImagesDecodeAsSquareThreeChannelImagesOfImageSize) {
  SynthOptions options = small_options();
  options.image_size = 48;
  const fs::path out = write(options);
  for (const char* file : {"train.csv", "zeroshot_heldout.csv"}) {
    for (const auto& row : table(out, file).rows) {
      const cv::Mat image = cv::imread((out / row.fields[0]).string(), cv::IMREAD_UNCHANGED);
      ASSERT_FALSE(image.empty()) << row.fields[0];
      EXPECT_EQ(image.rows, 48);
      EXPECT_EQ(image.cols, 48);
      EXPECT_EQ(image.channels(), 3);
    }
  }
}

// --image-format jpg: the same images as JPEG files, for timing the loader's JPEG path.
TEST_F(SyntheticDatasetTest, JpegFormatWritesDecodableJpgFilesAndOtherFormatsAreRefused) {
  SynthOptions options = small_options();
  options.image_format = "jpg";
  const fs::path out = write(options, "jpeg");
  const auto rows = table(out, "train.csv").rows;
  ASSERT_FALSE(rows.empty());
  for (const auto& row : rows) {
    const std::string& path = row.fields[0];
    ASSERT_EQ(path.substr(path.size() - 4), ".jpg") << path;
    const std::string bytes = test::read_bytes(out / path);
    ASSERT_GE(bytes.size(), 3u);
    EXPECT_EQ(bytes.substr(0, 3), std::string("\xFF\xD8\xFF")) << path << " is not a JPEG";
    EXPECT_EQ(cv::imread((out / path).string()).rows, options.image_size) << path;
  }
  options.image_format = "gif";
  EXPECT_THROW(write(options, "gif"), ConfigError);
}

TEST_F(SyntheticDatasetTest, SameSeedGivesIdenticalFiles) {
  const fs::path a = write(small_options(7), "a");
  const fs::path b = write(small_options(7), "b");
  for (const char* file : {"train.csv", "retrieval.csv", "images/train/000000.png",
                           "images/zeroshot_heldout/000000.png"}) {
    EXPECT_EQ(test::read_bytes(a / file), test::read_bytes(b / file)) << file;
  }
}

TEST_F(SyntheticDatasetTest, DifferentSeedGivesDifferentData) {
  const fs::path a = write(small_options(7), "a");
  const fs::path b = write(small_options(8), "b");
  EXPECT_NE(test::read_bytes(a / "train.csv"), test::read_bytes(b / "train.csv"));
  EXPECT_NE(test::read_bytes(a / "images/train/000000.png"),
            test::read_bytes(b / "images/train/000000.png"));
}

TEST_F(SyntheticDatasetTest, InvalidOptionsAreConfigErrors) {
  SynthOptions options = small_options();
  options.image_size = 4;
  EXPECT_THROW(write(options), ConfigError);
  options = small_options();
  options.n = -1;
  EXPECT_THROW(write(options), ConfigError);
}

}  // namespace
}  // namespace mmtrain
