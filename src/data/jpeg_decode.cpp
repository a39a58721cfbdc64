#include "mmtrain/data/jpeg_decode.h"

#include <csetjmp>
#include <cstdio>

#include <jpeglib.h>

namespace mmtrain {

namespace {

// libjpeg's default error handler calls exit(); this one jumps back to the decoder instead.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
};

void on_error(j_common_ptr info) { std::longjmp(reinterpret_cast<ErrorManager*>(info->err)->jump, 1); }
void on_message(j_common_ptr) {}  // warnings (e.g. extraneous bytes) are not worth a log line

// No C++ object with a destructor may live in the frame that longjmp leaves.
bool decode(const unsigned char* data, size_t size, jpeg_decompress_struct& info, ErrorManager& errors,
            cv::Mat& rgb) {
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = on_error;
  errors.base.output_message = on_message;
  if (setjmp(errors.jump) != 0) return false;
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, static_cast<unsigned long>(size));
  if (jpeg_read_header(&info, TRUE) != JPEG_HEADER_OK) return false;
  if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) return false;
  info.out_color_space = JCS_RGB;
  jpeg_start_decompress(&info);
  if (info.output_components != 3) return false;
  rgb.create(static_cast<int>(info.output_height), static_cast<int>(info.output_width), CV_8UC3);
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = rgb.ptr<JSAMPLE>(static_cast<int>(info.output_scanline));
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  return true;
}

}  // namespace

bool decode_jpeg_rgb(const unsigned char* data, size_t size, cv::Mat& rgb) {
  jpeg_decompress_struct info{};
  ErrorManager errors{};
  cv::Mat decoded;
  const bool ok = decode(data, size, info, errors, decoded);
  jpeg_destroy_decompress(&info);
  if (ok) rgb = decoded;
  return ok;
}

}  // namespace mmtrain
