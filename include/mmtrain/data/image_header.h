// Image dimensions read from the file header, before any pixel is decoded: a decompression bomb
// is refused without allocating its pixels (Pillow's MAX_IMAGE_PIXELS check, done the same way).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace mmtrain {

struct ImageDims {
  int64_t width = 0;
  int64_t height = 0;
};

// PNG, JPEG, BMP, GIF, WebP (VP8, VP8L, VP8X) and TIFF; nullopt for other formats or a header cut
// short.
std::optional<ImageDims> read_image_dims(const unsigned char* data, size_t size);

// A JPEG whose end-of-image marker is missing: libjpeg decodes such a file with grey rows and a
// warning instead of failing, so a cut-off download would otherwise train as a real image.
bool is_truncated_jpeg(const unsigned char* data, size_t size);

}  // namespace mmtrain
