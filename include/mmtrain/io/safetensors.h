// safetensors files (the format open_clip and Hugging Face ship weights in): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, then raw
// little-endian tensor bytes.
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

namespace mmtrain {

using TensorMap = std::map<std::string, torch::Tensor>;

// Throws std::runtime_error naming the file and what is wrong (truncated, bad header, dtype).
TensorMap read_safetensors(const std::string& path);

// Writes contiguous CPU copies; F32, F16, BF16, F64, I64, I32, U8 and BOOL are supported.
void write_safetensors(const std::string& path, const TensorMap& tensors);

}  // namespace mmtrain
