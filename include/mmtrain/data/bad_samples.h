// Broken samples, which every real crawl contains: skipped, counted by kind, logged once each with
// where they came from, and a run stops when their share passes data.max_bad_fraction.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "mmtrain/errors.h"

namespace mmtrain {

enum class BadKind { kMissing, kCorrupt, kTooLarge, kEmptyCaption, kBadRow, kBadUtf8, kUnpaired };

// The name used in metrics.jsonl ("bad/<name>"): missing, corrupt, too_large, ...
const char* bad_kind_name(BadKind kind);

struct BadSample {
  BadKind kind = BadKind::kCorrupt;
  std::string where;   // file:line, image path, or shard:key
  std::string reason;  // what was wrong
};

// An image that cannot be used. Loaders catch it and skip the sample; elsewhere it is a DataError.
class BadImageError : public DataError {
 public:
  BadImageError(BadKind kind, const std::string& message) : DataError(message), kind_(kind) {}
  BadKind kind() const { return kind_; }

 private:
  BadKind kind_;
};

// Thread-safe: loader workers record into one log.
class BadSampleLog {
 public:
  // Fractions are judged once `min_seen` samples were drawn, so that one bad sample early in a
  // run does not stop it.
  explicit BadSampleLog(double max_fraction = 0.01, int64_t min_seen = 1000, int log_per_kind = 10);

  void record(const BadSample& sample);  // logs it unless this `where` was logged before
  void count_seen(int64_t samples);      // samples drawn, good and bad
  std::map<std::string, int64_t> counts() const;  // "bad/<kind>" -> count, kinds seen only
  int64_t total() const;
  // Throws DataError naming `what`, the fraction and the first examples when over the limit.
  void check(const std::string& what) const;

 private:
  double max_fraction_;
  int64_t min_seen_;
  int log_per_kind_;
  mutable std::mutex mutex_;
  std::map<BadKind, int64_t> counts_;
  std::set<std::string> logged_;
  std::vector<BadSample> examples_;
  int64_t seen_ = 0;
  int64_t total_ = 0;
};

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_valid_utf8(const std::string& text);

}  // namespace mmtrain
