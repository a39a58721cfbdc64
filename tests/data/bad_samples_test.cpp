// Bad input never stops a run silently nor crashes it: each kind of broken image is recognised,
// skipped by the loader with a deterministic replacement, counted, and the fraction is enforced.
#include "mmtrain/data/bad_samples.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <filesystem>

#include "mmtrain/data/image_header.h"
#include "mmtrain/data/loader.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"

namespace mmtrain {
namespace {

std::string encoded(const std::string& ext, int width, int height) {
  std::vector<uchar> bytes;
  cv::imencode(ext, cv::Mat(height, width, CV_8UC3, cv::Scalar(10, 200, 30)), bytes);
  return {bytes.begin(), bytes.end()};
}

BadKind kind_of_reading(const std::string& path, int64_t max_pixels = 1 << 20) {
  try {
    read_rgb_image(path, max_pixels);
  } catch (const BadImageError& error) {
    return error.kind();
  }
  ADD_FAILURE() << path << " was read without error";
  return BadKind::kBadRow;
}

TEST(ImageHeader, DimensionsComeFromTheHeaderOfEachFormat) {
  for (const char* ext : {".png", ".jpg", ".bmp", ".webp"}) {
    const auto bytes = encoded(ext, 37, 21);
    const auto dims = read_image_dims(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    ASSERT_TRUE(dims.has_value()) << ext;
    EXPECT_EQ(dims->width, 37) << ext;
    EXPECT_EQ(dims->height, 21) << ext;
  }
}

TEST(BadImages, EachKindIsRecognised) {
  test::TempDir dir;
  EXPECT_EQ(kind_of_reading((dir.path() / "absent.jpg").string()), BadKind::kMissing);
  EXPECT_EQ(kind_of_reading(dir.write("empty.jpg", "")), BadKind::kCorrupt);
  EXPECT_EQ(kind_of_reading(dir.write("noise.png", "this is not an image at all")), BadKind::kCorrupt);
  const auto jpeg = encoded(".jpg", 64, 64);
  EXPECT_EQ(kind_of_reading(dir.write("cut.jpg", jpeg.substr(0, jpeg.size() / 2))), BadKind::kCorrupt);
  EXPECT_EQ(kind_of_reading(dir.write("big.png", encoded(".png", 40, 30)), 1000), BadKind::kTooLarge);
}

TEST(BadImages, TooLargeIsJudgedFromTheHeaderWithoutDecoding) {
  // A PNG whose header claims 100000 x 100000 pixels but whose data is a 2x2 image: decoding
  // would fail (or allocate 30 GB); the header check refuses it first.
  std::string png = encoded(".png", 2, 2);
  const unsigned char big[4] = {0x00, 0x01, 0x86, 0xA0};  // 100000, big-endian
  png.replace(16, 4, reinterpret_cast<const char*>(big), 4);
  png.replace(20, 4, reinterpret_cast<const char*>(big), 4);
  test::TempDir dir;
  EXPECT_EQ(kind_of_reading(dir.write("bomb.png", png), 89478485), BadKind::kTooLarge);
}

TEST(Utf8, ValidAndInvalidSequences) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // cut short
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

TEST(BadSampleLogTest, CountsByKindAndStopsPastTheFractionWithExamples) {
  BadSampleLog log(0.1, 20);
  log.record({BadKind::kMissing, "a.csv:3", "cannot open"});
  log.record({BadKind::kMissing, "a.csv:9", "cannot open"});
  log.record({BadKind::kCorrupt, "a.csv:4", "not decodable"});
  EXPECT_EQ(log.counts(), (std::map<std::string, int64_t>{{"bad/corrupt", 1}, {"bad/missing", 2}}));
  log.count_seen(10);
  EXPECT_NO_THROW(log.check("a.csv"));  // 3 of 10 is over 0.1, but fewer than 20 were drawn
  log.count_seen(10);
  try {
    log.check("a.csv");
    FAIL() << "3 of 20 is over 0.1";
  } catch (const DataError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("data.max_bad_fraction"), std::string::npos) << message;
    EXPECT_NE(message.find("a.csv:3"), std::string::npos) << message;
  }
  log.count_seen(20);
  EXPECT_NO_THROW(log.check("a.csv"));  // 3 of 40
}

class LoaderWithBadSamples : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = test::write_tiny_data(dir_.path().string(), 40);
    dataset_ = std::make_shared<PairDataset>(read_pair_csv(data_ + "/train.csv", "filepath", "title", '\t'));
    std::filesystem::remove(dataset_->samples[5].image_path);
    test::TempDir::write_file(dataset_->samples[11].image_path, "corrupt");
  }

  std::vector<Batch> epoch(std::shared_ptr<BadSampleLog> log, int workers, int64_t first_batch = 0) {
    LoaderOptions options;
    options.batch_size = 8;
    options.workers = workers;
    options.seed = 3;
    options.transform.image_size = 16;
    options.transform.augment = true;
    options.bad_samples = std::move(log);
    Loader loader(dataset_, nullptr, options);
    loader.start_epoch(2, first_batch);
    std::vector<Batch> batches;
    while (auto batch = loader.next()) batches.push_back(std::move(*batch));
    return batches;
  }

  test::TempDir dir_;
  std::string data_;
  std::shared_ptr<PairDataset> dataset_;
};

TEST_F(LoaderWithBadSamples, BadImagesAreReplacedAndCountedByKind) {
  auto log = std::make_shared<BadSampleLog>(1.0, 1);
  const auto batches = epoch(log, 2);
  ASSERT_EQ(batches.size(), 5u);
  EXPECT_EQ(log->counts(), (std::map<std::string, int64_t>{{"bad/corrupt", 1}, {"bad/missing", 1}}));
  for (const auto& batch : batches) {
    EXPECT_EQ(batch.images.size(0), 8);
    EXPECT_FALSE(batch.ids.eq(5).any().item<bool>());
    EXPECT_FALSE(batch.ids.eq(11).any().item<bool>());
  }
}

TEST_F(LoaderWithBadSamples, ReplacementsDoNotDependOnWorkersOrTheResumePoint) {
  const auto serial = epoch(std::make_shared<BadSampleLog>(1.0, 1), 0);
  const auto threaded = epoch(std::make_shared<BadSampleLog>(1.0, 1), 3);
  const auto resumed = epoch(std::make_shared<BadSampleLog>(1.0, 1), 2, 2);
  ASSERT_EQ(resumed.size(), 3u);
  for (size_t i = 0; i < serial.size(); ++i) {
    EXPECT_TRUE(torch::equal(serial[i].ids, threaded[i].ids));
    EXPECT_TRUE(torch::equal(serial[i].images, threaded[i].images));
  }
  for (size_t i = 0; i < resumed.size(); ++i) EXPECT_TRUE(torch::equal(resumed[i].images, serial[i + 2].images));
}

}  // namespace
}  // namespace mmtrain
