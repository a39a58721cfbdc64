// A small counter-based random source: every draw is a pure function of (seed, stream ids), so
// augmentation and data order repeat exactly whatever the thread count or the resume point.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace mmtrain {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  // One stream per (seed, a, b, ...): e.g. SplitMix64::stream(seed, {epoch, sample_index}).
  static SplitMix64 stream(uint64_t seed, std::initializer_list<uint64_t> ids) {
    SplitMix64 mix(seed);
    uint64_t state = mix.next();
    for (uint64_t id : ids) state = SplitMix64(state ^ (id * 0x9E3779B97F4A7C15ULL)).next();
    return SplitMix64(state);
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0,1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int64_t below(int64_t n) { return static_cast<int64_t>(uniform() * static_cast<double>(n)); }

 private:
  uint64_t state_;
};

}  // namespace mmtrain
