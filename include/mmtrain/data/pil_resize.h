// Pillow's bicubic resize (Image.resize(size, BICUBIC)) reproduced bit for bit on 8-bit images.
// CLIP weights were trained on Pillow's output, and OpenCV's INTER_CUBIC neither antialiases when
// shrinking nor rounds the same way, so eval features drift without it.
#pragma once

#include <opencv2/core/mat.hpp>

namespace mmtrain {

// 8-bit image with 1 to 4 channels (ROIs fine) -> new width x height image, always a fresh Mat.
// Channels are resampled independently, as Pillow does for L and RGB. Throws std::invalid_argument
// for another depth, no pixels, or a non-positive target size.
cv::Mat pil_resize_bicubic(const cv::Mat& image8, int width, int height);

}  // namespace mmtrain
