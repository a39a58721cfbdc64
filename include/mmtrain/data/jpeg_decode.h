// JPEG straight to RGB through libjpeg(-turbo). OpenCV 4.6 decodes JPEGs to RGB, swaps every row
// to BGR byte by byte, and we swapped it back: about a tenth of the pipeline's time at 224 px.
#pragma once

#include <cstddef>

#include <opencv2/core/mat.hpp>

namespace mmtrain {

// Decodes a baseline or progressive JPEG (colour or grey) into 8-bit RGB. False, with `rgb`
// untouched, for anything libjpeg cannot turn into RGB itself (CMYK, corrupt data): the caller
// then falls back to OpenCV, which reports or handles it.
bool decode_jpeg_rgb(const unsigned char* data, size_t size, cv::Mat& rgb);

}  // namespace mmtrain
