// The eval transform against open_clip's own preprocessing of the same PNGs (torchvision Resize with
// Pillow bicubic, CenterCrop, ToTensor, Normalize), and pil_resize_bicubic on cases worked by hand.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/types.h>

#include "mmtrain/data/pil_resize.h"
#include "mmtrain/data/transforms.h"
#include "mmtrain/io/safetensors.h"
#include "support/reference_data.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

constexpr int kImageSize = 64;
const fs::path kGoldenDir = test::reference_data("openclip_golden");

// One 8-bit level, plus room for float32 rounding through normalise and un-normalise.
constexpr double kOneLevel = 1.0 / 255.0 + 1e-6;

struct Golden {
  std::vector<std::string> image_files;  // relative to kGoldenDir
  torch::Tensor images;                  // [N, 3, S, S], normalised with CLIP mean/std
};

Golden load_golden() {
  std::ifstream meta_file(kGoldenDir / "meta.json");
  const auto meta = nlohmann::json::parse(meta_file);
  Golden golden{meta.at("image_files").get<std::vector<std::string>>(),
                read_safetensors((kGoldenDir / "golden.safetensors").string()).at("in.images")};
  return golden;
}

TransformOptions eval_options() {
  TransformOptions options;  // the defaults are CLIP's mean/std
  options.image_size = kImageSize;
  options.augment = false;
  return options;
}

// x * std + mean per channel: back to [0, 1] pixel values, where one 8-bit level is 1/255.
torch::Tensor unnormalise(const torch::Tensor& chw, const TransformOptions& options) {
  const auto mean = torch::tensor({options.mean[0], options.mean[1], options.mean[2]}).view({3, 1, 1});
  const auto std = torch::tensor({options.std[0], options.std[1], options.std[2]}).view({3, 1, 1});
  return chw * std + mean;
}

torch::Tensor eval_transform(const std::string& path, const TransformOptions& options) {
  const cv::Mat rgb = read_rgb_image(path, options.max_image_pixels);
  auto out = torch::empty({3, options.image_size, options.image_size});
  transform_image(rgb, options, /*seed=*/0, out.data_ptr<float>());
  return out;
}

struct Parity {
  double max_diff = 0.0;
  double fraction_within_one_level = 0.0;
};

Parity parity_with_golden(const Golden& golden, size_t index) {
  const TransformOptions options = eval_options();
  const std::string path = (kGoldenDir / golden.image_files[index]).string();
  const auto ours = unnormalise(eval_transform(path, options), options);
  const auto theirs = unnormalise(golden.images[static_cast<int64_t>(index)], options);
  const auto diff = (ours - theirs).abs();
  return {diff.max().item<double>(), (diff <= kOneLevel).to(torch::kDouble).mean().item<double>()};
}

void expect_parity(const Golden& golden, size_t index) {
  const Parity parity = parity_with_golden(golden, index);
  std::printf("[ parity   ] %s: max |diff| %.3g (%.2f levels), %.2f%% within one level\n",
              golden.image_files[index].c_str(), parity.max_diff, parity.max_diff * 255.0,
              100.0 * parity.fraction_within_one_level);
  EXPECT_GE(parity.fraction_within_one_level, 0.99) << golden.image_files[index];
}

class PreprocessParity : public testing::Test {
 protected:
  void SetUp() override { MMTRAIN_REQUIRE_REFERENCE_DATA("openclip_golden"); }
};

TEST_F(PreprocessParity, MatchesOpenClipWithinOne8BitLevel) {
  const Golden golden = load_golden();
  ASSERT_EQ(golden.images.size(0), static_cast<int64_t>(golden.image_files.size()));
  ASSERT_EQ(golden.images.sizes().slice(1).vec(), (std::vector<int64_t>{3, kImageSize, kImageSize}));
  for (size_t i = 0; i < golden.image_files.size(); ++i) expect_parity(golden, i);
}

// Index of the first image stored with one channel, or image_files.size() when none is.
size_t first_single_channel_image(const Golden& golden) {
  for (size_t i = 0; i < golden.image_files.size(); ++i) {
    const cv::Mat raw = cv::imread((kGoldenDir / golden.image_files[i]).string(), cv::IMREAD_UNCHANGED);
    if (raw.channels() == 1) return i;
  }
  return golden.image_files.size();
}

// open_clip resizes greyscale in Pillow's L mode and converts to RGB afterwards; we convert first.
// Equal per-channel resampling makes the order irrelevant, which this pins down.
TEST_F(PreprocessParity, GreyscaleImageIsHandled) {
  const Golden golden = load_golden();
  const size_t grey = first_single_channel_image(golden);
  ASSERT_LT(grey, golden.image_files.size()) << "no single-channel image among the golden inputs";
  expect_parity(golden, grey);
}

cv::Mat row_of(std::vector<uint8_t> values) { return cv::Mat(values, true).reshape(1, 1); }

TEST(PilResizeBicubic, ConstantImageStaysConstant) {
  const cv::Scalar colour(7, 128, 250);
  const cv::Mat constant(13, 29, CV_8UC3, colour);
  for (const cv::Size size : {cv::Size(5, 4), cv::Size(64, 50), cv::Size(29, 3), cv::Size(100, 13)}) {
    const cv::Mat out = pil_resize_bicubic(constant, size.width, size.height);
    ASSERT_EQ(out.size(), size);
    EXPECT_EQ(cv::norm(out, cv::Mat(size, CV_8UC3, colour), cv::NORM_INF), 0) << size;
  }
}

TEST(PilResizeBicubic, SameSizeIsAnIdentityCopy) {
  cv::Mat noise(17, 11, CV_8UC3);
  cv::randu(noise, 0, 256);
  const cv::Mat out = pil_resize_bicubic(noise, 11, 17);
  EXPECT_EQ(cv::norm(out, noise, cv::NORM_INF), 0);
  EXPECT_NE(out.data, noise.data);
}

// Halving two samples: the kernel, stretched to cover both, weighs them equally, and Pillow's
// fixed point rounds the half up: (0 + 255) / 2 = 127.5 -> 128.
TEST(PilResizeBicubic, HalvingAveragesAndRoundsHalfUp) {
  EXPECT_EQ(pil_resize_bicubic(row_of({0, 255}), 1, 1).at<uint8_t>(0, 0), 128);
  EXPECT_EQ(pil_resize_bicubic(row_of({10, 20}).t(), 1, 1).at<uint8_t>(0, 0), 15);
}

// Doubling: each output sits a quarter sample from its nearest input, where Keys' cubic (a = -0.5)
// weighs 0.8671875 and 0.2265625; the outer taps fall off the two-sample image, so those two
// renormalise: 255 * 0.2265625 / 1.09375 = 52.8 -> 53. The end pixels overshoot and clip.
// Enlarging must not stretch the kernel, unlike shrinking.
TEST(PilResizeBicubic, DoublingInterpolatesWithTheCubicKernel) {
  const cv::Mat out = pil_resize_bicubic(row_of({0, 255}), 4, 1);
  EXPECT_EQ(out.at<uint8_t>(0, 0), 0);
  EXPECT_EQ(out.at<uint8_t>(0, 1), 53);
  EXPECT_EQ(out.at<uint8_t>(0, 2), 202);
  EXPECT_EQ(out.at<uint8_t>(0, 3), 255);
}

// One-pixel stripes shrunk 3x: an antialiasing resize averages them to mid grey, while a
// point-sampling kernel (OpenCV's INTER_CUBIC) lands on every third pixel and returns 0, 255, 0, ...
TEST(PilResizeBicubic, ShrinkingAntialiases) {
  cv::Mat stripes(8, 30, CV_8UC1, cv::Scalar(0));
  for (int x = 0; x < stripes.cols; x += 2) stripes.col(x).setTo(255);
  const cv::Mat out = pil_resize_bicubic(stripes, 10, 8);
  double lo = 0, hi = 0;
  cv::minMaxLoc(out.colRange(1, 9), &lo, &hi);  // the edge columns see a clipped window
  EXPECT_GE(lo, 124);
  EXPECT_LE(hi, 131);
}

TEST(PilResizeBicubic, RejectsWhatItCannotResample) {
  EXPECT_THROW(pil_resize_bicubic(cv::Mat(4, 4, CV_32FC3), 2, 2), std::invalid_argument);
  EXPECT_THROW(pil_resize_bicubic(cv::Mat(4, 4, CV_8UC3), 0, 2), std::invalid_argument);
}

}  // namespace
}  // namespace mmtrain
