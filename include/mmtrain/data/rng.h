// A small counter-based random source: every draw is a pure function of (seed, stream ids), so
// augmentation and data order repeat exactly whatever the thread count or the resume point.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace mmtrain {

// What a random stream is for, passed as its first id so that streams drawn for different purposes
// from one seed never coincide. The values are part of every data order and augmentation that a
// seed and a resume reproduce: never change or reuse one, only add.
enum class StreamTag : uint64_t {
  kEpochOrder = 0x0d,                 // map-style loader: the order of an epoch's samples
  kSampleDraw = 0xa0,                 // map-style loader: a sample's caption and augmentation seed
  kBadSampleReplacement = 0xbad,      // map-style loader: the sample drawn in place of a bad one
  kStreamSampleSeed = 0xa1,           // WebDataset loader: a sample's augmentation seed
  kShardOrder = 0x5348415244ULL,      // WebDataset: the order of an epoch's shards ("SHARD")
  kShardSampleOrder = 0x53414D504CULL,  // WebDataset: one reader's shuffle-buffer draws ("SAMPL")
  kEvalOcclusion = 0x0cc1,            // eval.degraded: which half of an evaluation image is occluded
  kWordDropout = 0x3d,                // both loaders: which words of a sample's text are left out
};

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  // One stream per (seed, a, b, ...): e.g. SplitMix64::stream(seed, {epoch, sample_index}).
  static SplitMix64 stream(uint64_t seed, std::initializer_list<uint64_t> ids) {
    return SplitMix64(mix_in(SplitMix64(seed).next(), ids));
  }
  // The same stream as stream(seed, {tag, ids...}).
  static SplitMix64 stream(uint64_t seed, StreamTag tag, std::initializer_list<uint64_t> ids) {
    return SplitMix64(mix_in(mix_in(SplitMix64(seed).next(), {static_cast<uint64_t>(tag)}), ids));
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
  static uint64_t mix_in(uint64_t state, std::initializer_list<uint64_t> ids) {
    for (uint64_t id : ids) state = SplitMix64(state ^ (id * 0x9E3779B97F4A7C15ULL)).next();
    return state;
  }

  uint64_t state_;
};

}  // namespace mmtrain
