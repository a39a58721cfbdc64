#include "mmtrain/data/transforms.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "mmtrain/data/bad_samples.h"
#include "mmtrain/data/image_header.h"
#include "mmtrain/data/jpeg_decode.h"
#include "mmtrain/data/pil_resize.h"
#include "mmtrain/data/rng.h"
#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

BadImageError too_large(const std::string& where, int64_t width, int64_t height, int64_t max_pixels) {
  return BadImageError(BadKind::kTooLarge, where + ": " + std::to_string(width) + "x" + std::to_string(height) +
                                               " exceeds data.max_image_pixels " + std::to_string(max_pixels));
}

// 8-bit RGB from what OpenCV decoded (BGR order, 1-4 channels, 8 or 16 bits). Other sample types
// (float or signed TIFFs) are refused: every step after this reads one byte per channel.
cv::Mat to_rgb8(const cv::Mat& decoded, const std::string& where) {
  cv::Mat img = decoded;
  if (img.depth() == CV_16U) img.convertTo(img, CV_8U, 1.0 / 257.0);
  if (img.depth() != CV_8U) {
    throw BadImageError(BadKind::kCorrupt, where + ": samples of OpenCV depth " + std::to_string(img.depth()) +
                                               "; expected 8- or 16-bit unsigned");
  }
  cv::Mat rgb;
  switch (img.channels()) {
    case 1: cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(img, rgb, cv::COLOR_BGRA2RGB); break;
    default:
      throw BadImageError(BadKind::kCorrupt,
                          where + ": " + std::to_string(img.channels()) + " channels; expected 1, 3 or 4");
  }
  return rgb;
}

// OpenCV's decoders for what libjpeg-turbo does not take. OpenCV refuses by throwing when a header
// passes read_image_dims but not its own checks (a TIFF page taller than CV_IO_MAX_IMAGE_HEIGHT,
// a repeated tag read another way): the same bad sample, named.
cv::Mat decode_with_opencv(const unsigned char* data, size_t size, const std::string& where, int64_t max_pixels) {
  const cv::Mat encoded(1, static_cast<int>(size), CV_8U, const_cast<unsigned char*>(data));
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(encoded, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& error) {
    throw BadImageError(BadKind::kCorrupt, where + ": OpenCV cannot decode it (" + error.err + ")");
  }
  if (decoded.empty()) throw BadImageError(BadKind::kCorrupt, where + ": not a decodable image (corrupt or truncated?)");
  if (static_cast<int64_t>(decoded.cols) * decoded.rows > max_pixels) {
    throw too_large(where, decoded.cols, decoded.rows, max_pixels);
  }
  return to_rgb8(decoded, where);
}

// torchvision's Resize(int): the short side becomes `size` and the long side is truncated, not
// rounded (int(size * long / short)), so a 37x91 image becomes 64x157, not 64x158.
cv::Size short_side_resized(cv::Size in, int size) {
  const int short_side = std::min(in.width, in.height), long_side = std::max(in.width, in.height);
  const int new_long = static_cast<int>(static_cast<double>(int64_t{size} * long_side) / short_side);
  return in.width <= in.height ? cv::Size(size, new_long) : cv::Size(new_long, size);
}

// torchvision's CenterCrop offset int(round(excess / 2.0)): Python's round sends halves to the
// even neighbour, so an excess of 93 starts the crop at 46 and one of 3 at 2.
int centre_crop_offset(int excess) {
  const int half = excess / 2;
  return excess % 2 != 0 && half % 2 != 0 ? half + 1 : half;
}

// open_clip's eval preprocessing, Pillow's bicubic resize included: CLIP weights were trained on
// its output, which OpenCV's kernels miss by several 8-bit levels.
cv::Mat eval_view(const cv::Mat& rgb, int size) {
  const cv::Size resized_size = short_side_resized(rgb.size(), size);
  const cv::Mat resized = pil_resize_bicubic(rgb, resized_size.width, resized_size.height);
  const int left = centre_crop_offset(resized.cols - size), top = centre_crop_offset(resized.rows - size);
  return resized(cv::Rect(left, top, size, size));
}

// torchvision's RandomResizedCrop: ten tries at a random area and log-uniform aspect ratio, then a
// centre crop clamped to the ratio range.
cv::Rect random_crop_rect(const cv::Mat& img, const TransformOptions& o, SplitMix64& rng) {
  const double area = static_cast<double>(img.cols) * img.rows;
  const double log_lo = std::log(o.crop_ratio[0]), log_hi = std::log(o.crop_ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(o.crop_scale[0], o.crop_scale[1]);
    const double aspect = std::exp(rng.uniform(log_lo, log_hi));
    const int w = static_cast<int>(std::lround(std::sqrt(target * aspect)));
    const int h = static_cast<int>(std::lround(std::sqrt(target / aspect)));
    if (w > 0 && h > 0 && w <= img.cols && h <= img.rows) {
      const int y = static_cast<int>(rng.below(img.rows - h + 1));
      const int x = static_cast<int>(rng.below(img.cols - w + 1));
      return cv::Rect(x, y, w, h);
    }
  }
  const double ratio = static_cast<double>(img.cols) / img.rows;
  int w = img.cols, h = img.rows;
  if (ratio < o.crop_ratio[0]) h = static_cast<int>(std::lround(w / o.crop_ratio[0]));
  if (ratio > o.crop_ratio[1]) w = static_cast<int>(std::lround(h * o.crop_ratio[1]));
  return cv::Rect((img.cols - w) / 2, (img.rows - h) / 2, w, h);
}

void jitter_colours(cv::Mat& img, double strength, SplitMix64& rng) {
  const double brightness = rng.uniform(1.0 - strength, 1.0 + strength);
  const double contrast = rng.uniform(1.0 - strength, 1.0 + strength);
  const cv::Scalar mean = cv::mean(img);
  const double grey = (mean[0] + mean[1] + mean[2]) / 3.0;
  img.convertTo(img, -1, brightness * contrast, brightness * (1.0 - contrast) * grey);
}

// ITU-R 601 luma in all three channels, as torchvision's RandomGrayscale: a view that keeps every
// shape and edge but no hue, so features that recognise shapes cannot lean on colour alone.
void to_grey(cv::Mat& img) {
  cv::Mat grey;
  cv::cvtColor(img, grey, cv::COLOR_RGB2GRAY);
  cv::cvtColor(grey, img, cv::COLOR_GRAY2RGB);
}

cv::Mat train_view(const cv::Mat& rgb, const TransformOptions& o, uint64_t seed) {
  SplitMix64 rng(seed);
  // Pillow's bicubic, as open_clip's RandomResizedCrop uses, so training sees the pixels eval sees.
  cv::Mat view = pil_resize_bicubic(rgb(random_crop_rect(rgb, o, rng)), o.image_size, o.image_size);
  if (o.flip && rng.uniform() < 0.5) cv::flip(view, view, 1);
  if (o.color_jitter > 0.0) jitter_colours(view, o.color_jitter, rng);
  if (o.grayscale > 0.0 && rng.uniform() < o.grayscale) to_grey(view);
  return view;
}

}  // namespace

cv::Mat decode_rgb_image(const unsigned char* data, size_t size, const std::string& where, int64_t max_pixels) {
  if (size == 0) throw BadImageError(BadKind::kCorrupt, where + ": empty image file");
  // Only formats whose size is read before decoding reach a decoder: OpenCV's others (JPEG 2000,
  // OpenEXR, PNM, ...) would allocate whatever their headers claim, and are not image formats the
  // data sources list.
  const auto dims = read_image_dims(data, size);
  if (!dims) throw BadImageError(BadKind::kCorrupt, where + ": not a JPEG, PNG, BMP, WebP or TIFF image (or cut short)");
  if (dims->width < 0 || dims->height < 0) {
    throw BadImageError(BadKind::kCorrupt, where + ": negative image size in its header");
  }
  // Divided, not multiplied: a header's two 32-bit sizes can overflow a product.
  if (dims->width != 0 && dims->height > max_pixels / dims->width) {
    throw too_large(where, dims->width, dims->height, max_pixels);
  }
  if (is_truncated_jpeg(data, size)) {
    throw BadImageError(BadKind::kCorrupt, where + ": truncated JPEG (no end-of-image marker)");
  }
  cv::Mat rgb;
  if (size >= 2 && data[0] == 0xFF && data[1] == 0xD8 && decode_jpeg_rgb(data, size, rgb)) return rgb;
  return decode_with_opencv(data, size, where, max_pixels);
}

cv::Mat read_rgb_image(const std::string& path, int64_t max_pixels) {
  std::vector<uchar> bytes;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    throw BadImageError(errno == ENOENT ? BadKind::kMissing : BadKind::kCorrupt,
                        path + ": cannot open image (" + std::strerror(errno) + ")");
  }
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  bytes.resize(size > 0 ? static_cast<size_t>(size) : 0);
  const size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  if (got != bytes.size()) throw BadImageError(BadKind::kCorrupt, path + ": short read");
  return decode_rgb_image(bytes.data(), bytes.size(), path, max_pixels);
}

void transform_image(const cv::Mat& rgb, const TransformOptions& options, uint64_t seed, float* out) {
  const cv::Mat view = options.augment ? train_view(rgb, options, seed) : eval_view(rgb, options.image_size);
  const int size = options.image_size;
  const size_t plane = static_cast<size_t>(size) * size;
  // One table lookup per value instead of a division: the same float as computing it each time.
  float table[3][256];
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) table[c][v] = (v / 255.0f - options.mean[c]) / options.std[c];
  }
  for (int y = 0; y < size; ++y) {
    const uchar* row = view.ptr<uchar>(y);
    float* r = out + static_cast<size_t>(y) * size;
    float* g = r + plane;
    float* b = g + plane;
    for (int x = 0; x < size; ++x) {
      r[x] = table[0][row[3 * x]];
      g[x] = table[1][row[3 * x + 1]];
      b[x] = table[2][row[3 * x + 2]];
    }
  }
}

}  // namespace mmtrain

namespace mmtrain {

TransformOptions transform_options(const DataConfig& data, int image_size, bool augment) {
  TransformOptions options;
  options.image_size = image_size;
  options.augment = augment;
  options.crop_scale = {data.augment.crop_scale[0], data.augment.crop_scale[1]};
  options.crop_ratio = {data.augment.crop_ratio[0], data.augment.crop_ratio[1]};
  options.flip = data.augment.flip;
  options.color_jitter = data.augment.color_jitter;
  options.grayscale = data.augment.grayscale;
  for (int c = 0; c < 3; ++c) {
    options.mean[c] = static_cast<float>(data.mean[c]);
    options.std[c] = static_cast<float>(data.std[c]);
  }
  options.max_image_pixels = data.max_image_pixels;
  return options;
}

}  // namespace mmtrain
