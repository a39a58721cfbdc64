// Whole-file reads for the binary formats we parse in memory (checkpoints, safetensors).
#pragma once

#include <string>

namespace mmtrain {

// The file's bytes; throws std::runtime_error "<path>: cannot open (<what>)" when unreadable.
std::string read_file_bytes(const std::string& path, const std::string& what = "file");

}  // namespace mmtrain
