// Image bytes as the loader decodes them: header sniffing (dimensions before any pixel is
// allocated), the truncated-JPEG check, libjpeg-turbo's RGB decode and OpenCV's for the rest.
#include "fuzz_input.h"
#include "mmtrain/data/transforms.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // 4 megapixels: what a fuzzing run can afford; the default limit refuses the same way.
  constexpr int64_t kMaxPixels = int64_t{1} << 22;
  mmtrain::fuzz::expect_clear_refusal("fuzz-image", [&] {
    mmtrain::decode_rgb_image(data, size, "fuzz-image", kMaxPixels);
  });
  return 0;
}
