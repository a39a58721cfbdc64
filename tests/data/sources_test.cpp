// The map-style pair sources (JSONL, COCO captions, CSV's bad rows) and the image-folder zero-shot
// source, on fixtures written here.
#include <gtest/gtest.h>

#include <filesystem>

#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "support/error_message.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> kinds_of(const PairDataset& dataset) {
  std::vector<std::string> kinds;
  for (const auto& bad : dataset.bad) kinds.push_back(bad_kind_name(bad.kind));
  return kinds;
}

TEST(JsonlSource, ReadsImageAndCaptionKeysWithPathsRelativeToTheFile) {
  test::TempDir dir;
  const auto path = dir.write("pairs.jsonl",
                              "{\"image\": \"a.jpg\", \"text\": \"a cat\"}\n"
                              "\n"
                              "{\"image\": \"/abs/b.jpg\", \"text\": [\"a dog\", \"a puppy\"]}\n");
  const auto dataset = read_pair_jsonl(path, "image", "text");
  ASSERT_EQ(dataset.samples.size(), 2u);
  EXPECT_EQ(dataset.samples[0].image_path, (dir.path() / "a.jpg").string());
  EXPECT_EQ(dataset.samples[0].captions, std::vector<std::string>{"a cat"});
  EXPECT_EQ(dataset.samples[0].line, 1);
  EXPECT_EQ(dataset.samples[1].image_path, "/abs/b.jpg");
  EXPECT_EQ(dataset.samples[1].captions, (std::vector<std::string>{"a dog", "a puppy"}));
  EXPECT_EQ(dataset.samples[1].line, 3);
}

TEST(JsonlSource, SeveralCaptionKeysAreAllKept) {
  test::TempDir dir;
  const auto path = dir.write("pairs.jsonl", "{\"url\": \"a.jpg\", \"title\": \"t\", \"alt\": \"a\"}\n");
  const auto dataset = read_pair_jsonl(path, "url", "title,alt");
  ASSERT_EQ(dataset.samples.size(), 1u);
  EXPECT_EQ(dataset.samples[0].captions, (std::vector<std::string>{"t", "a"}));
}

TEST(JsonlSource, BrokenLinesAreCountedWithTheirLineAndReason) {
  test::TempDir dir;
  const auto path = dir.write("pairs.jsonl",
                              "{\"image\": \"a.jpg\", \"text\": \"ok\"}\n"
                              "{\"image\": \"b.jpg\", \"text\": \n"
                              "[1, 2]\n"
                              "{\"text\": \"no image\"}\n"
                              "{\"image\": \"c.jpg\", \"text\": \"   \"}\n"
                              "{\"image\": \"d.jpg\", \"text\": \"\xC3\x28\"}\n");
  const auto dataset = read_pair_jsonl(path, "image", "text");
  ASSERT_EQ(dataset.samples.size(), 1u);
  EXPECT_EQ(kinds_of(dataset), (std::vector<std::string>{"bad_row", "bad_row", "bad_row", "empty_caption", "bad_utf8"}));
  EXPECT_EQ(dataset.bad[0].where, path + ":2");
  EXPECT_EQ(dataset.bad[0].reason, "not valid JSON");
  EXPECT_EQ(dataset.bad[2].reason, "expected a string under \"image\"");
}

TEST(JsonlSource, ACaptionKeyInNoLineIsAStructuralError) {
  test::TempDir dir;
  const auto path = dir.write("pairs.jsonl", "{\"image\": \"a.jpg\", \"caption\": \"x\"}\n");
  const auto message = test::error_message<DataError>([&] { read_pair_jsonl(path, "image", "text"); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("\"text\""), std::string::npos) << message;
}

TEST(CocoSource, EveryCaptionOfAnImageIsAPairUnderTheImageRoot) {
  test::TempDir dir;
  const auto path = dir.write("captions_val.json", R"({
    "images": [{"id": 7, "file_name": "000007.jpg"}, {"id": 9, "file_name": "000009.jpg"}],
    "annotations": [{"image_id": 7, "id": 1, "caption": "a man on a horse"},
                    {"image_id": 9, "id": 2, "caption": "two dogs"},
                    {"image_id": 7, "id": 3, "caption": "a rider"},
                    {"image_id": 5, "id": 4, "caption": "an orphan caption"}]})");
  const auto dataset = read_coco_captions(path, "/data/coco/val2017");
  ASSERT_EQ(dataset.samples.size(), 3u);
  EXPECT_EQ(dataset.samples[0].image_path, "/data/coco/val2017/000007.jpg");
  EXPECT_EQ(dataset.samples[0].captions, std::vector<std::string>{"a man on a horse"});
  EXPECT_EQ(dataset.samples[2].image_path, "/data/coco/val2017/000007.jpg");
  EXPECT_EQ(dataset.samples[2].captions, std::vector<std::string>{"a rider"});
  EXPECT_EQ(kinds_of(dataset), std::vector<std::string>{"unpaired"});
  EXPECT_EQ(dataset.bad[0].where, path + ":4");
}

TEST(CocoSource, AFileWithoutAnnotationsIsAStructuralErrorNamingIt) {
  test::TempDir dir;
  const auto path = dir.write("instances.json", R"({"images": []})");
  const auto message = test::error_message<DataError>([&] { read_coco_captions(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("\"annotations\""), std::string::npos) << message;
}

TEST(CsvSource, EmptyWhitespaceAndInvalidUtf8CaptionsAreSkippedByKind) {
  test::TempDir dir;
  const auto path = dir.write("train.csv",
                              "filepath\ttitle\n"
                              "a.jpg\ta cat\n"
                              "b.jpg\t  \n"
                              "c.jpg\tbad \xFF byte\n"
                              "\tno image\n"
                              "d.jpg\ttoo\tmany\n");
  const auto dataset = read_pair_csv(path, "filepath", "title", '\t');
  ASSERT_EQ(dataset.samples.size(), 1u);
  EXPECT_EQ(kinds_of(dataset), (std::vector<std::string>{"bad_row", "empty_caption", "bad_utf8", "bad_row"}));
  EXPECT_EQ(dataset.bad[1].where, path + ":3");
}

TEST(CsvSource, ImageRootReplacesTheFilesFolder) {
  test::TempDir dir;
  const auto path = dir.write("train.csv", "filepath\ttitle\nx/a.jpg\ta cat\n");
  const auto dataset = read_pair_csv(path, "filepath", "title", '\t', "/images");
  EXPECT_EQ(dataset.samples.at(0).image_path, "/images/x/a.jpg");
}

TEST(PairSource, TypeSelectsTheReaderAndWebdatasetIsNotMapStyle) {
  test::TempDir dir;
  PairSourceConfig config;
  config.type = "jsonl";
  config.path = dir.write("p.jsonl", "{\"filepath\": \"a.jpg\", \"title\": \"t\"}\n");
  EXPECT_EQ(read_pair_source(config, "eval.retrieval").samples.size(), 1u);
  config.type = "webdataset";
  EXPECT_THROW(read_pair_source(config, "eval.retrieval"), ConfigError);
}

class ImageFolderSource : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* cls : {"b_dog", "a_cat"}) fs::create_directories(dir_.path() / "val" / cls);
    dir_.write("val/a_cat/1.png", "x");
    dir_.write("val/a_cat/2.JPG", "x");
    dir_.write("val/a_cat/notes.txt", "not an image");
    dir_.write("val/b_dog/1.jpg", "x");
    config_.type = "image_folder";
    config_.path = (dir_.path() / "val").string();
  }
  test::TempDir dir_;
  ZeroShotConfig config_;
};

TEST_F(ImageFolderSource, SortedSubFoldersAreClassesNamedFromTheFolders) {
  const auto set = read_zero_shot_source(config_);
  EXPECT_EQ(set.classnames, (std::vector<std::string>{"a cat", "b dog"}));
  ASSERT_EQ(set.images.samples.size(), 3u);
  EXPECT_EQ(set.images.samples[0].label, 0);
  EXPECT_EQ(set.images.samples[1].label, 0);
  EXPECT_EQ(set.images.samples[2].label, 1);
  EXPECT_EQ(fs::path(set.images.samples[2].image_path).filename(), "1.jpg");
}

TEST_F(ImageFolderSource, ClassNamesFileOverridesTheFolderNames) {
  config_.classnames = dir_.write("names.txt", "kitten\npuppy\n");
  EXPECT_EQ(read_zero_shot_source(config_).classnames, (std::vector<std::string>{"kitten", "puppy"}));
}

TEST_F(ImageFolderSource, ClassNamesFileWithTheWrongCountIsAnError) {
  config_.classnames = dir_.write("names.txt", "kitten\n");
  const auto message = test::error_message<DataError>([&] { read_zero_shot_source(config_); });
  EXPECT_NE(message.find("1 class names for 2 sub-folders"), std::string::npos) << message;
}

}  // namespace
}  // namespace mmtrain
