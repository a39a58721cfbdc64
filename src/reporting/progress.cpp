#include "mmtrain/reporting/progress.h"

#include <cmath>
#include <cstdio>

namespace mmtrain {

std::string format_duration(double seconds) {
  const auto total = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char text[32];
  if (total < 60) {
    std::snprintf(text, sizeof(text), "%llds", static_cast<long long>(total));
  } else if (total < 3600) {
    std::snprintf(text, sizeof(text), "%lldm%02llds", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  } else {
    std::snprintf(text, sizeof(text), "%lldh%02lldm", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60));
  }
  return text;
}

Throughput::Throughput() : last_(std::chrono::steady_clock::now()) {}

double Throughput::seconds_since_tick() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - last_).count();
}

double Throughput::tick(int64_t samples) {
  const double elapsed = seconds_since_tick();
  last_ = std::chrono::steady_clock::now();
  return elapsed > 0 ? static_cast<double>(samples) / elapsed : 0.0;
}

}  // namespace mmtrain
