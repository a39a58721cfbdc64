// NumPy .npy files (format 1.0, little-endian float32, C order): what `embed` writes so that
// numpy.load reads it as is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmtrain {

void write_npy_float32(const std::string& path, const float* data, const std::vector<int64_t>& shape);

}  // namespace mmtrain
