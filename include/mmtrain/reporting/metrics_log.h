// metrics.jsonl: one JSON object per line (kind, step, time, ...), flushed per record so that a
// crash loses nothing written before it.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace mmtrain {

class MetricsLog {
 public:
  explicit MetricsLog(std::string path);
  // Adds `time` (Unix seconds) and writes the record as one line.
  void write(nlohmann::json record);
  // Drops records whose step is beyond `step`, atomically: a resumed run reads as unbroken.
  static void truncate_after(const std::string& path, int64_t step);

 private:
  std::string path_;
  std::ofstream out_;
};

double unix_time();

}  // namespace mmtrain
