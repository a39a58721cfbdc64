#include "mmtrain/reporting/metrics_log.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace mmtrain {

double unix_time() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

MetricsLog::MetricsLog(std::string path) : path_(std::move(path)), out_(path_, std::ios::app) {
  if (!out_) throw std::runtime_error(path_ + ": cannot open for writing");
}

void MetricsLog::write(nlohmann::json record) {
  record["time"] = unix_time();
  out_ << record.dump() << '\n';
  out_.flush();
}

void MetricsLog::truncate_after(const std::string& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const auto record = nlohmann::json::parse(line, nullptr, false);
      // A torn last line from a crash is dropped with the records after the checkpoint.
      if (record.is_discarded() || record.value("step", int64_t{0}) > step) continue;
      out << line << '\n';
    }
    if (!out) throw std::runtime_error(tmp + ": write failed");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace mmtrain
