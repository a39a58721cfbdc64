#include "mmtrain/eval/degrade.h"

#include <set>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

namespace mmtrain {
namespace {

// OpenCV's GaussianBlur, an independent implementation, with the same sigma, the same kernel size
// and replicated edges.
TEST(Degrade, BlurMatchesOpenCvsGaussianBlurWithinFloatRounding) {
  torch::manual_seed(1);
  const auto images = torch::randn({2, 3, 32, 32});
  const auto blurred = degrade_images(images, Degradation::kBlur, 0, 0);
  const double sigma = 2.0;  // 32 / 16
  const int size = 2 * 6 + 1;  // radius ceil(3 sigma)
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t c = 0; c < 3; ++c) {
      auto plane = images[b][c].contiguous();
      cv::Mat source(32, 32, CV_32F, plane.data_ptr<float>());
      cv::Mat expected;
      cv::GaussianBlur(source, expected, cv::Size(size, size), sigma, sigma, cv::BORDER_REPLICATE);
      auto want = torch::from_blob(expected.ptr<float>(), {32, 32}).clone();
      EXPECT_LT((blurred[b][c] - want).abs().max().item<double>(), 1e-5) << "image " << b << " channel " << c;
    }
  }
}

TEST(Degrade, OcclusionZeroesExactlyOneHalfOfEachImageAndLeavesTheOtherAsItWas) {
  torch::manual_seed(2);
  const auto images = torch::randn({64, 3, 8, 8}) + 5.0;  // no zero pixels of their own
  const auto occluded = degrade_images(images, Degradation::kOcclusion, 7, 0);
  std::set<std::string> halves;
  for (int64_t b = 0; b < 64; ++b) {
    const auto zero = occluded[b].eq(0).all(0);  // [8,8]
    EXPECT_EQ(zero.sum().item<int64_t>(), 32) << "image " << b;
    const bool left = zero.narrow(1, 0, 4).all().item<bool>(), right = zero.narrow(1, 4, 4).all().item<bool>();
    const bool top = zero.narrow(0, 0, 4).all().item<bool>(), bottom = zero.narrow(0, 4, 4).all().item<bool>();
    EXPECT_EQ(left + right + top + bottom, 1) << "image " << b;
    halves.insert(left ? "left" : right ? "right" : top ? "top" : "bottom");
    const auto kept = zero.logical_not().unsqueeze(0).expand({3, 8, 8});
    EXPECT_TRUE(torch::equal(occluded[b].masked_select(kept), images[b].masked_select(kept)));
  }
  EXPECT_EQ(halves.size(), 4u) << "64 images draw every half";
}

TEST(Degrade, AnImagesOccludedHalfDependsOnTheSeedAndItsRowNotOnItsBatch) {
  const auto images = torch::rand({6, 3, 8, 8}) + 1.0;
  const auto whole = degrade_images(images, Degradation::kOcclusion, 3, 0);
  const auto second_batch = degrade_images(images.slice(0, 4), Degradation::kOcclusion, 3, 4);
  EXPECT_TRUE(torch::equal(whole.slice(0, 4), second_batch));
  EXPECT_FALSE(torch::equal(whole, degrade_images(images, Degradation::kOcclusion, 4, 0)));
}

}  // namespace
}  // namespace mmtrain
