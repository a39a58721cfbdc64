// Image bytes as the loader decodes them: header sniffing (dimensions before any pixel is
// allocated), the truncated-JPEG check, libjpeg-turbo's RGB decode and OpenCV's for the rest; then
// what the loader does with the pixels (the eval view, and a training view), so an image decoded
// into a type the transforms do not expect is a finding too.
#include <vector>

#include "fuzz_input.h"
#include "mmtrain/data/transforms.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // 4 megapixels: what a fuzzing run can afford; the default limit refuses the same way.
  constexpr int64_t kMaxPixels = int64_t{1} << 22;
  mmtrain::fuzz::expect_clear_refusal("fuzz-image", [&] {
    const cv::Mat rgb = mmtrain::decode_rgb_image(data, size, "fuzz-image", kMaxPixels);
    mmtrain::TransformOptions options;
    options.image_size = 16;
    std::vector<float> pixels(3 * 16 * 16);
    mmtrain::transform_image(rgb, options, 0, pixels.data());
    options.augment = true;
    options.color_jitter = 0.4;
    mmtrain::transform_image(rgb, options, size, pixels.data());
  });
  return 0;
}
