// Throughput and time-to-go for progress lines: samples/s over the last interval and an ETA.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mmtrain {

// "45s", "3m07s", "2h05m"
std::string format_duration(double seconds);

class Throughput {
 public:
  Throughput();
  // Returns samples/s over the interval since the previous call (or construction).
  double tick(int64_t samples);
  double seconds_since_tick() const;

 private:
  std::chrono::steady_clock::time_point last_;
};

}  // namespace mmtrain
