#include "mmtrain/data/loader.h"

#include <algorithm>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "mmtrain/errors.h"
#include "mmtrain/text/build_tokenizer.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"
#include "support/words.h"

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

// `count` 8x8 images (sample i's red channel is i), each with the same caption columns: `columns`
// ("title,alt") named in the header and `captions` their tab-separated texts.
std::shared_ptr<PairDataset> same_caption_pairs(const test::TempDir& dir, int count, const std::string& columns,
                                                const std::string& captions) {
  std::string header = columns;
  std::replace(header.begin(), header.end(), ',', '\t');
  std::string csv = "filepath\t" + header + "\n";
  for (int i = 0; i < count; ++i) {
    cv::imwrite((dir.path() / (std::to_string(i) + ".png")).string(), cv::Mat(8, 8, CV_8UC3, cv::Scalar(i, 0, 0)));
    csv += std::to_string(i) + ".png\t" + captions + "\n";
  }
  return std::make_shared<PairDataset>(read_pair_csv(dir.write("pairs.tsv", csv), "filepath", columns, '\t'));
}

// Loader options for batches of `batch_size` 8 px images, with texts of 16 tokens.
LoaderOptions small_text_options(int64_t batch_size, int workers) {
  LoaderOptions options;
  options.batch_size = batch_size;
  options.workers = workers;
  options.context_length = 16;
  options.transform.image_size = 8;
  return options;
}

// caption_key "title,alt": every sample keeps both columns, and one is drawn per sample and epoch,
// the same whatever the worker count.
TEST(CaptionSelection, OneOfTheCaptionColumnsIsDrawnPerSampleAndEpoch) {
  test::TempDir dir;
  auto dataset = same_caption_pairs(dir, 8, "title,alt", "a red apple\ta green pear");
  auto tokenizer = build_tokenizer(TokenizerConfig{"sentencepiece", "", 40}, all_captions(*dataset), 0);
  auto reference = [&](const std::string& caption) {
    auto tokens = torch::empty({16}, torch::kLong);
    tokenize_into(*tokenizer, caption, 16, tokens.data_ptr<int64_t>());
    return tokens;
  };
  const auto apple = reference("a red apple"), pear = reference("a green pear");
  auto tokens_of_epoch = [&](int64_t epoch, int workers) {
    Loader loader(dataset, tokenizer, small_text_options(8, workers));
    loader.start_epoch(epoch);
    auto batch = *loader.next();
    auto by_id = torch::empty_like(batch.tokens);
    by_id.index_copy_(0, batch.ids, batch.tokens);  // rows in sample order
    return by_id;
  };
  int apples = 0, pears = 0;
  for (int64_t epoch = 0; epoch < 6; ++epoch) {
    const auto tokens = tokens_of_epoch(epoch, 0);
    EXPECT_TRUE(torch::equal(tokens, tokens_of_epoch(epoch, 2)));
    for (int64_t row = 0; row < 8; ++row) {
      const bool is_apple = torch::equal(tokens[row], apple), is_pear = torch::equal(tokens[row], pear);
      ASSERT_TRUE(is_apple || is_pear) << "epoch " << epoch << " sample " << row;
      apples += is_apple;
      pears += is_pear;
    }
  }
  EXPECT_GT(apples, 8);  // 48 draws: each column about half of them
  EXPECT_GT(pears, 8);
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

// TIFFs carry sample types PNG and JPEG cannot: 16-bit is scaled to 8; float is refused naming
// the file, since every later step reads one byte per RGB channel.
TEST(Transforms, SixteenBitTiffsBecome8BitAndFloatOnesAreRefused) {
  test::TempDir dir;
  const auto deep = (dir.path() / "deep.tif").string();
  ASSERT_TRUE(cv::imwrite(deep, cv::Mat(6, 5, CV_16UC3, cv::Scalar(257 * 10, 257 * 20, 257 * 30))));
  const cv::Mat d = read_rgb_image(deep, 1000);
  EXPECT_EQ(d.type(), CV_8UC3);
  EXPECT_EQ(d.at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));
  const auto path = (dir.path() / "float.tif").string();
  ASSERT_TRUE(cv::imwrite(path, cv::Mat(6, 5, CV_32FC3, cv::Scalar(0.5))));
  try {
    const cv::Mat read = read_rgb_image(path, 1000);
    ADD_FAILURE() << "a float TIFF was read as depth " << read.depth();
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("expected 8- or 16-bit"), std::string::npos) << error.what();
  }
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


// data.augment.word_dropout: each row's text is its caption with some words left out, the same
// whatever the worker count, and the images are those of a run without it (own rng stream).
TEST(WordDropoutInTheLoader, RowsReadPartsOfTheirCaptionAndImagesStayAsWithout) {
  test::TempDir dir;
  const std::string caption = "a red apple on a wooden table";
  auto dataset = same_caption_pairs(dir, 16, "title", caption);
  auto tokenizer = build_tokenizer(TokenizerConfig{"sentencepiece", "", 40}, all_captions(*dataset), 0);
  auto first_batch = [&](double word_dropout, int workers) {
    LoaderOptions options = small_text_options(16, workers);
    options.transform.augment = true;
    options.word_dropout = word_dropout;
    Loader loader(dataset, tokenizer, options);
    loader.start_epoch(0);
    return *loader.next();
  };
  const Batch without = first_batch(0.0, 0), with = first_batch(0.4, 0);
  EXPECT_TRUE(torch::equal(with.images, without.images));
  EXPECT_TRUE(torch::equal(with.tokens, first_batch(0.4, 2).tokens));
  int shortened = 0;
  for (int64_t row = 0; row < 16; ++row) {
    std::vector<int64_t> ids;
    for (int64_t i = 0; i < 16; ++i) {
      const int64_t id = with.tokens[row][i].item<int64_t>();
      if (id != tokenizer->bos_id() && id != tokenizer->eos_id() && id != tokenizer->pad_id()) ids.push_back(id);
    }
    const std::string text = tokenizer->decode(ids);
    EXPECT_TRUE(test::words_in_order(text, caption)) << "row " << row << " reads \"" << text << "\"";
    shortened += text != caption;
  }
  EXPECT_GE(shortened, 8);  // 16 rows of 7 words at 0.4: all but (0.6^7)*16 = 0.4 of them expected
}

}  // namespace
}  // namespace mmtrain
