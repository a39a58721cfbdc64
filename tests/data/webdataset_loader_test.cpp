// Training batches from WebDataset shards: decoded and collated, exact on resume for a worker
// count, with broken entries skipped and counted.
#include "mmtrain/data/webdataset_loader.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "support/tar_writer.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

std::string png(int shade) {
  std::vector<uchar> bytes;
  cv::imencode(".png", cv::Mat(12, 12, CV_8UC3, cv::Scalar(shade, 255 - shade, (shade * 7) % 256)), bytes);
  return {bytes.begin(), bytes.end()};
}

class WebDatasetLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int shard = 0; shard < 4; ++shard) {
      std::vector<test::TarEntry> entries;
      for (int i = 0; i < 10; ++i) {
        const std::string key = std::to_string(shard) + "_" + std::to_string(i);
        const bool broken = shard == 1 && i == 4;
        entries.push_back({key + ".png", broken ? std::string("garbage") : png(shard * 40 + i)});
        entries.push_back({key + ".txt", "caption " + key});
      }
      if (shard == 2) entries.push_back({"lonely.png", png(1)});
      test::write_tar((dir_.path() / ("s" + std::to_string(shard) + ".tar")).string(), entries);
    }
    stream_.shards = expand_shard_pattern((dir_.path() / "s{0..3}.tar").string());
    stream_.seed = 5;
    stream_.shuffle_buffer = 6;
  }

  std::vector<Batch> epoch(int workers, int64_t first_batch, std::shared_ptr<BadSampleLog> log) {
    LoaderOptions options;
    options.batch_size = 4;
    options.workers = workers;
    options.seed = 5;
    options.transform.image_size = 8;
    options.transform.augment = true;
    options.bad_samples = std::move(log);
    WebDatasetLoader loader(stream_, nullptr, options, 0);
    loader.start_epoch(1, first_batch);
    std::vector<Batch> batches;
    while (auto batch = loader.next()) batches.push_back(std::move(*batch));
    return batches;
  }

  test::TempDir dir_;
  WebDatasetOptions stream_;
};

TEST_F(WebDatasetLoaderTest, StreamsEveryWorkersShardsIntoFullBatches) {
  auto log = std::make_shared<BadSampleLog>(1.0, 1);
  const auto batches = epoch(2, 0, log);
  // Each worker holds two shards of 10 samples: 5 batches of 4 each, 10 in all.
  ASSERT_EQ(batches.size(), 10u);
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i].index, static_cast<int64_t>(i));
    EXPECT_EQ(batches[i].images.sizes(), (torch::IntArrayRef{4, 3, 8, 8}));
  }
  EXPECT_EQ(log->counts(), (std::map<std::string, int64_t>{{"bad/corrupt", 1}, {"bad/unpaired", 1}}));
}

TEST_F(WebDatasetLoaderTest, ResumingAtABatchContinuesExactlyForTheSameWorkerCount) {
  const auto whole = epoch(2, 0, std::make_shared<BadSampleLog>(1.0, 1));
  const auto rest = epoch(2, 3, std::make_shared<BadSampleLog>(1.0, 1));
  ASSERT_EQ(rest.size(), whole.size() - 3);
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].index, whole[i + 3].index);
    EXPECT_TRUE(torch::equal(rest[i].images, whole[i + 3].images)) << "batch " << i + 3;
  }
}

TEST_F(WebDatasetLoaderTest, SamplesPerEpochCapsTheBatches) {
  LoaderOptions options;
  options.batch_size = 4;
  options.workers = 2;
  options.transform.image_size = 8;
  options.bad_samples = std::make_shared<BadSampleLog>(1.0, 1);
  WebDatasetLoader loader(stream_, nullptr, options, 13);
  EXPECT_EQ(loader.batches_per_epoch(), 3);
  loader.start_epoch(0);
  int batches = 0;
  while (loader.next()) ++batches;
  EXPECT_EQ(batches, 3);
}

}  // namespace
}  // namespace mmtrain
