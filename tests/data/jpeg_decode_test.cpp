// JPEGs decoded straight to RGB give OpenCV's pixels (both are libjpeg-turbo with its defaults),
// broken ones are refused without exiting, and batch buffers are recycled.
#include "mmtrain/data/jpeg_decode.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "mmtrain/data/buffer_pool.h"

namespace mmtrain {
namespace {

std::vector<uchar> noisy_jpeg(int channels, std::vector<int> params = {}) {
  cv::Mat image(37, 53, channels == 1 ? CV_8UC1 : CV_8UC3);
  cv::randu(image, 0, 255);
  std::vector<uchar> bytes;
  cv::imencode(".jpg", image, bytes, params);
  return bytes;
}

void expect_same_as_opencv(const std::vector<uchar>& bytes) {
  cv::Mat ours;
  ASSERT_TRUE(decode_jpeg_rgb(bytes.data(), bytes.size(), ours));
  cv::Mat theirs = cv::imdecode(bytes, cv::IMREAD_COLOR), theirs_rgb;
  cv::cvtColor(theirs, theirs_rgb, cv::COLOR_BGR2RGB);
  ASSERT_EQ(ours.size(), theirs_rgb.size());
  EXPECT_EQ(cv::norm(ours, theirs_rgb, cv::NORM_INF), 0.0);
}

TEST(JpegDecode, ColourJpegGivesOpenCvsPixelsInRgbOrder) { expect_same_as_opencv(noisy_jpeg(3)); }

TEST(JpegDecode, GreyJpegBecomesRgbLikeOpenCv) { expect_same_as_opencv(noisy_jpeg(1)); }

TEST(JpegDecode, ProgressiveJpegGivesOpenCvsPixels) {
  expect_same_as_opencv(noisy_jpeg(3, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
}

TEST(JpegDecode, CorruptDataIsRefusedWithoutExiting) {
  auto bytes = noisy_jpeg(3);
  for (size_t i = 20; i < bytes.size(); i += 7) bytes[i] = 0xFF;  // markers everywhere
  cv::Mat rgb;
  EXPECT_FALSE(decode_jpeg_rgb(bytes.data(), bytes.size(), rgb));
  const unsigned char not_jpeg[] = {0xFF, 0xD8, 0x00, 0x01, 0x02};
  EXPECT_FALSE(decode_jpeg_rgb(not_jpeg, sizeof(not_jpeg), rgb));
}

TEST(BufferPoolTest, ABufferIsReusedOnceItsTensorIsGone) {
  auto pool = BufferPool::create(2);
  void* first = nullptr;
  {
    auto a = pool->empty({4, 3, 8, 8});
    first = a.data_ptr();
    a.fill_(1.0f);
  }
  auto b = pool->empty({4, 3, 8, 8});
  EXPECT_EQ(b.data_ptr(), first);
  auto c = pool->empty({4, 3, 8, 8});  // b still alive: a new buffer
  EXPECT_NE(c.data_ptr(), first);
  auto other_size = pool->empty({2, 3, 8, 8});
  EXPECT_EQ(other_size.numel(), 2 * 3 * 8 * 8);
}

TEST(BufferPoolTest, TensorsOutliveThePoolHandle) {
  torch::Tensor kept;
  {
    auto pool = BufferPool::create(1);
    kept = pool->empty({16});
  }
  kept.fill_(3.0f);  // the pool stays alive through the tensor's deleter
  EXPECT_EQ(kept.sum().item<float>(), 48.0f);
}

}  // namespace
}  // namespace mmtrain
