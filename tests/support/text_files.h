// Reading what the binary wrote, for integration tests: a whole file, JSON lines, `embed`'s .npy.
#pragma once

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmtrain::test {

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every line of `text` that is a JSON object (log lines interleaved on the same stream are skipped).
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.front() == '{') lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

// The float32 values of an .npy file as `embed` writes it (format 1.0: a 10-byte preamble whose
// last two bytes give the header's length, the header, then the data).
inline std::vector<float> npy_floats(const std::string& bytes) {
  const size_t start = 10 + static_cast<unsigned char>(bytes.at(8)) + 256u * static_cast<unsigned char>(bytes.at(9));
  std::vector<float> values((bytes.size() - start) / sizeof(float));
  std::memcpy(values.data(), bytes.data() + start, values.size() * sizeof(float));
  return values;
}

// The JSON lines of `text` again, each without its `key` member (data files stripped of a field).
inline std::string without_member(const std::string& text, const std::string& key) {
  std::string out;
  for (auto line : json_lines(text)) {
    line.erase(key);
    out += line.dump() + "\n";
  }
  return out;
}

}  // namespace mmtrain::test
