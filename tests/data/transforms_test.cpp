// The training transform's random greyscale: open_clip's gray_scale_prob, with torchvision's
// RandomGrayscale luma (ITU-R 601: 0.299 R + 0.587 G + 0.114 B).
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>

#include "mmtrain/data/transforms.h"

namespace mmtrain {
namespace {

constexpr int kSize = 16;

// A saturated two-colour image: every pixel's channels differ, so a grey view is unmistakable.
cv::Mat two_colour_image() {
  cv::Mat rgb(kSize, kSize, CV_8UC3, cv::Scalar(200, 40, 90));
  rgb(cv::Rect(4, 4, 8, 8)).setTo(cv::Scalar(30, 180, 60));
  return rgb;
}

TransformOptions train_options(double grayscale) {
  TransformOptions o;
  o.image_size = kSize;
  o.augment = true;
  o.crop_scale = {1.0, 1.0};
  o.crop_ratio = {1.0, 1.0};  // the whole image: only the greyscale draw is random
  o.grayscale = grayscale;
  return o;
}

// The view's 8-bit-scale RGB at pixel i, un-normalised.
std::array<double, 3> pixel(const std::vector<float>& chw, const TransformOptions& o, int i) {
  std::array<double, 3> rgb{};
  for (int c = 0; c < 3; ++c) rgb[c] = (chw[c * kSize * kSize + i] * o.std[c] + o.mean[c]) * 255.0;
  return rgb;
}

bool is_grey(const std::vector<float>& chw, const TransformOptions& o) {
  for (int i = 0; i < kSize * kSize; ++i) {
    const auto rgb = pixel(chw, o, i);
    if (std::abs(rgb[0] - rgb[1]) > 0.01 || std::abs(rgb[1] - rgb[2]) > 0.01) return false;
  }
  return true;
}

std::vector<float> view(const TransformOptions& o, uint64_t seed) {
  std::vector<float> out(3 * kSize * kSize);
  transform_image(two_colour_image(), o, seed, out.data());
  return out;
}

TEST(RandomGreyscale, ProbabilityOneGivesTheLumaInEveryChannel) {
  const TransformOptions o = train_options(1.0);
  const auto out = view(o, 7);
  ASSERT_TRUE(is_grey(out, o));
  // Centre pixel (30, 180, 60): 0.299*30 + 0.587*180 + 0.114*60 = 121.5, within a level of rounding.
  EXPECT_NEAR(pixel(out, o, 8 * kSize + 8)[0], 121.5, 1.0);
  // Border pixel (200, 40, 90): 59.8 + 23.48 + 10.26 = 93.5.
  EXPECT_NEAR(pixel(out, o, 0)[1], 93.5, 1.0);
}

TEST(RandomGreyscale, ZeroKeepsColour) {
  const TransformOptions o = train_options(0.0);
  for (uint64_t seed = 0; seed < 20; ++seed) EXPECT_FALSE(is_grey(view(o, seed), o)) << "seed " << seed;
}

TEST(RandomGreyscale, AHalfTurnsAboutHalfOfTheSeedsGreyAndEachSeedAlwaysTheSame) {
  const TransformOptions o = train_options(0.5);
  int grey = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const bool first = is_grey(view(o, seed), o);
    EXPECT_EQ(first, is_grey(view(o, seed), o)) << "seed " << seed;
    grey += first;
  }
  // Binomial(200, 0.5): 100 +- 3.5 standard deviations.
  EXPECT_GT(grey, 75);
  EXPECT_LT(grey, 125);
}

TEST(RandomGreyscale, EvalViewsAreNeverGrey) {
  TransformOptions o = train_options(1.0);
  o.augment = false;
  EXPECT_FALSE(is_grey(view(o, 7), o));
}

}  // namespace
}  // namespace mmtrain
