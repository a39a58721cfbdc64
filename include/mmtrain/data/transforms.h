// Image decoding and the train/eval transforms. Train: random resized crop (torchvision's
// algorithm), optional flip, colour jitter and random greyscale. Eval: resize the short side,
// centre crop, as open_clip does. Both resize with Pillow's bicubic (pil_resize.h), the kernel CLIP
// was trained with, and normalise with mean/std into a caller-owned CHW float buffer.
#pragma once

#include <array>
#include <cstdint>
#include <cstddef>
#include <string>

#include <opencv2/core/mat.hpp>

namespace mmtrain {

struct TransformOptions {
  int image_size = 224;
  bool augment = false;  // false: eval transform
  std::array<double, 2> crop_scale = {0.9, 1.0};
  std::array<double, 2> crop_ratio = {0.75, 1.3333};
  bool flip = false;
  double color_jitter = 0.0;
  double grayscale = 0.0;  // probability that a training view is turned grey (kept 3-channel)
  std::array<float, 3> mean = {0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> std = {0.26862954f, 0.26130258f, 0.27577711f};
  int64_t max_image_pixels = 89478485;
};

// Decodes any OpenCV-readable file to 8-bit RGB (grey, RGBA and 16-bit converted). Throws
// BadImageError (bad_samples.h) naming the file and the kind: missing, corrupt (empty, truncated,
// undecodable) or too_large (more than max_pixels, checked from the header before decoding).
cv::Mat read_rgb_image(const std::string& path, int64_t max_pixels);
// The same for bytes already in memory (a tar entry); `where` names them in errors.
cv::Mat decode_rgb_image(const unsigned char* data, size_t size, const std::string& where, int64_t max_pixels);

// rgb (8-bit, 3 channels) -> out[3*S*S], CHW, normalised. `seed` drives the random choices of the
// train transform (a pure function of it); the eval transform ignores it.
void transform_image(const cv::Mat& rgb, const TransformOptions& options, uint64_t seed, float* out);

}  // namespace mmtrain

#include "mmtrain/config/config.h"

namespace mmtrain {

// The pipeline's transform settings from the config, at the model's image size.
TransformOptions transform_options(const DataConfig& data, int image_size, bool augment);

}  // namespace mmtrain
