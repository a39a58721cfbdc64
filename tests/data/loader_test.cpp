#include "mmtrain/data/loader.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "mmtrain/errors.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"

namespace mmtrain {
namespace {

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = test::write_tiny_data(dir_.path().string(), 40);
    dataset_ = std::make_shared<PairDataset>(read_pair_csv(data_ + "/train.csv", "filepath", "title", '\t'));
  }

  std::vector<Batch> epoch(int workers, int64_t epoch_index, int64_t first_batch = 0) {
    LoaderOptions options;
    options.batch_size = 8;
    options.workers = workers;
    options.seed = 7;
    options.transform.image_size = 16;
    options.transform.augment = true;
    Loader loader(dataset_, nullptr, options);
    loader.start_epoch(epoch_index, first_batch);
    std::vector<Batch> batches;
    while (auto batch = loader.next()) batches.push_back(std::move(*batch));
    return batches;
  }

  test::TempDir dir_;
  std::string data_;
  std::shared_ptr<PairDataset> dataset_;
};

TEST(EpochOrder, IsAPermutationFixedBySeedAndEpoch) {
  auto a = epoch_order(100, 1, 0);
  EXPECT_EQ(a, epoch_order(100, 1, 0));
  EXPECT_NE(a, epoch_order(100, 1, 1));
  EXPECT_NE(a, epoch_order(100, 2, 0));
  std::sort(a.begin(), a.end());
  for (int64_t i = 0; i < 100; ++i) ASSERT_EQ(a[i], i);
}

TEST_F(LoaderTest, BatchesDoNotDependOnTheWorkerCount) {
  auto serial = epoch(0, 3);
  auto threaded = epoch(3, 3);
  ASSERT_EQ(serial.size(), 5u);
  ASSERT_EQ(threaded.size(), serial.size());
  for (size_t i = 0; i < serial.size(); ++i) {
    EXPECT_EQ(threaded[i].index, static_cast<int64_t>(i));
    EXPECT_TRUE(torch::equal(serial[i].ids, threaded[i].ids));
    EXPECT_TRUE(torch::equal(serial[i].images, threaded[i].images));
  }
}

TEST_F(LoaderTest, StartingAnEpochMidwayGivesTheRestOfTheUnbrokenEpoch) {
  auto whole = epoch(2, 1);
  auto rest = epoch(2, 1, 3);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_TRUE(torch::equal(rest[0].images, whole[3].images));
  EXPECT_TRUE(torch::equal(rest[1].ids, whole[4].ids));
}

TEST_F(LoaderTest, EpochsShuffleDifferently) {
  EXPECT_FALSE(torch::equal(epoch(1, 0)[0].ids, epoch(1, 1)[0].ids));
}

TEST_F(LoaderTest, AnUnreadableImageFailsTheBatchNamingTheFile) {
  std::filesystem::remove(dataset_->samples[5].image_path);
  try {
    epoch(2, 0);
    FAIL() << "expected a DataError";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find(dataset_->samples[5].image_path), std::string::npos);
  }
}

TEST(Transforms, GreyAndRgbaImagesBecomeRgb) {
  test::TempDir dir;
  const auto grey = (dir.path() / "g.png").string();
  const auto rgba = (dir.path() / "a.png").string();
  cv::imwrite(grey, cv::Mat(10, 12, CV_8UC1, cv::Scalar(128)));
  cv::imwrite(rgba, cv::Mat(10, 12, CV_8UC4, cv::Scalar(10, 20, 30, 255)));
  const cv::Mat g = read_rgb_image(grey, 1000);
  const cv::Mat a = read_rgb_image(rgba, 1000);
  EXPECT_EQ(g.channels(), 3);
  EXPECT_EQ(a.channels(), 3);
  EXPECT_EQ(a.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));  // BGR on disk, RGB in memory
  EXPECT_THROW(read_rgb_image(grey, 100), DataError);       // 120 pixels > 100
}

TEST(Transforms, EvalTransformNormalisesAConstantImageWithMeanAndStd) {
  TransformOptions options;
  options.image_size = 8;
  cv::Mat rgb(20, 30, CV_8UC3, cv::Scalar(255, 0, 51));
  std::vector<float> out(3 * 8 * 8);
  transform_image(rgb, options, 0, out.data());
  EXPECT_NEAR(out[0], (1.0f - options.mean[0]) / options.std[0], 1e-5);
  EXPECT_NEAR(out[64], (0.0f - options.mean[1]) / options.std[1], 1e-5);
  EXPECT_NEAR(out[128 + 63], (0.2f - options.mean[2]) / options.std[2], 1e-5);
}

}  // namespace
}  // namespace mmtrain
