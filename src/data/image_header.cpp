#include "mmtrain/data/image_header.h"

#include <cstring>

namespace mmtrain {

namespace {

uint32_t be16(const unsigned char* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t be32(const unsigned char* p) { return (be16(p) << 16) | be16(p + 2); }
uint32_t le16(const unsigned char* p) { return uint32_t{p[0]} | (uint32_t{p[1]} << 8); }
uint32_t le24(const unsigned char* p) { return le16(p) | (uint32_t{p[2]} << 16); }
uint32_t le32(const unsigned char* p) { return le24(p) | (uint32_t{p[3]} << 24); }

bool starts_with(const unsigned char* data, size_t size, const char* magic, size_t length) {
  return size >= length && std::memcmp(data, magic, length) == 0;
}

std::optional<ImageDims> png_dims(const unsigned char* data, size_t size) {
  if (size < 24 || std::memcmp(data + 12, "IHDR", 4) != 0) return std::nullopt;
  return ImageDims{be32(data + 16), be32(data + 20)};
}

// Walks the marker segments to the first start-of-frame (SOF0..SOF15 except DHT, JPG, DAC).
std::optional<ImageDims> jpeg_dims(const unsigned char* data, size_t size) {
  size_t pos = 2;
  while (pos + 4 <= size) {
    if (data[pos] != 0xFF) return std::nullopt;
    const unsigned char marker = data[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      pos += 2;
      continue;
    }
    const size_t length = be16(data + pos + 2);
    const bool is_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_frame) {
      if (pos + 9 > size) return std::nullopt;
      return ImageDims{be16(data + pos + 7), be16(data + pos + 5)};
    }
    pos += 2 + length;
  }
  return std::nullopt;
}

std::optional<ImageDims> bmp_dims(const unsigned char* data, size_t size) {
  if (size < 26) return std::nullopt;
  const auto height = static_cast<int32_t>(le32(data + 22));  // negative: rows stored top-down
  return ImageDims{static_cast<int32_t>(le32(data + 18)), height < 0 ? -int64_t{height} : height};
}

std::optional<ImageDims> webp_dims(const unsigned char* data, size_t size) {
  if (size < 30) return std::nullopt;
  const unsigned char* chunk = data + 12;
  if (std::memcmp(chunk, "VP8X", 4) == 0) return ImageDims{le24(chunk + 12) + 1, le24(chunk + 15) + 1};
  if (std::memcmp(chunk, "VP8L", 4) == 0) {
    const uint32_t bits = le32(chunk + 9);
    return ImageDims{(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
  }
  if (std::memcmp(chunk, "VP8 ", 4) == 0) return ImageDims{le16(chunk + 14) & 0x3FFF, le16(chunk + 16) & 0x3FFF};
  return std::nullopt;
}

// The first image file directory's ImageWidth (tag 256) and ImageLength (257), SHORT or LONG, in
// the byte order the header names; what OpenCV's TIFF decoder reads as the first page.
std::optional<ImageDims> tiff_dims(const unsigned char* data, size_t size) {
  const bool little = data[0] == 'I';
  const auto u16 = [&](size_t at) { return little ? le16(data + at) : be16(data + at); };
  const auto u32 = [&](size_t at) { return little ? le32(data + at) : be32(data + at); };
  if (size < 8) return std::nullopt;
  const size_t directory = u32(4);
  if (directory > size - 2) return std::nullopt;
  int64_t dims[2] = {-1, -1};
  for (size_t entry = directory + 2, end = entry + 12 * size_t{u16(directory)}; entry < end; entry += 12) {
    if (entry + 12 > size) return std::nullopt;
    const uint32_t tag = u16(entry), type = u16(entry + 2);
    if (tag != 256 && tag != 257) continue;
    if (type != 3 && type != 4) return std::nullopt;
    dims[tag - 256] = type == 3 ? u16(entry + 8) : u32(entry + 8);
  }
  if (dims[0] < 0 || dims[1] < 0) return std::nullopt;
  return ImageDims{dims[0], dims[1]};
}

}  // namespace

std::optional<ImageDims> read_image_dims(const unsigned char* data, size_t size) {
  if (starts_with(data, size, "\x89PNG\r\n\x1a\n", 8)) return png_dims(data, size);
  if (starts_with(data, size, "\xFF\xD8", 2)) return jpeg_dims(data, size);
  if (starts_with(data, size, "BM", 2)) return bmp_dims(data, size);
  if (starts_with(data, size, "GIF8", 4) && size >= 10) return ImageDims{le16(data + 6), le16(data + 8)};
  if (starts_with(data, size, "RIFF", 4) && size >= 12 && std::memcmp(data + 8, "WEBP", 4) == 0) return webp_dims(data, size);
  if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4)) return tiff_dims(data, size);
  return std::nullopt;
}

bool is_truncated_jpeg(const unsigned char* data, size_t size) {
  if (!starts_with(data, size, "\xFF\xD8", 2)) return false;
  // Cameras and editors may append bytes after the end-of-image marker; look near the end for it.
  const size_t window = size < 4096 ? size : 4096;
  for (size_t i = size - window; i + 1 < size; ++i) {
    if (data[i] == 0xFF && data[i + 1] == 0xD9) return false;
  }
  return true;
}

}  // namespace mmtrain
