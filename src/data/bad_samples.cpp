#include "mmtrain/data/bad_samples.h"

#include <spdlog/spdlog.h>

namespace mmtrain {

const char* bad_kind_name(BadKind kind) {
  switch (kind) {
    case BadKind::kMissing: return "missing";
    case BadKind::kCorrupt: return "corrupt";
    case BadKind::kTooLarge: return "too_large";
    case BadKind::kEmptyCaption: return "empty_caption";
    case BadKind::kBadRow: return "bad_row";
    case BadKind::kBadUtf8: return "bad_utf8";
    case BadKind::kUnpaired: return "unpaired";
  }
  return "unknown";
}

BadSampleLog::BadSampleLog(double max_fraction, int64_t min_seen, int log_per_kind)
    : max_fraction_(max_fraction), min_seen_(min_seen), log_per_kind_(log_per_kind) {}

void BadSampleLog::record(const BadSample& sample) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t count = ++counts_[sample.kind];
  ++total_;
  if (examples_.size() < 5) examples_.push_back(sample);
  if (!logged_.insert(sample.where).second) return;
  if (count <= log_per_kind_) {
    spdlog::warn("skipped {} sample: {}: {}", bad_kind_name(sample.kind), sample.where, sample.reason);
  }
  if (count == log_per_kind_) {
    spdlog::warn("further {} samples are counted in metrics.jsonl (bad/{}), not logged",
                 bad_kind_name(sample.kind), bad_kind_name(sample.kind));
  }
}

void BadSampleLog::count_seen(int64_t samples) {
  std::lock_guard<std::mutex> lock(mutex_);
  seen_ += samples;
}

std::map<std::string, int64_t> BadSampleLog::counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, int64_t> out;
  for (const auto& [kind, count] : counts_) out[std::string("bad/") + bad_kind_name(kind)] = count;
  return out;
}

int64_t BadSampleLog::total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return total_;
}

void BadSampleLog::check(const std::string& what) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (seen_ < min_seen_ || seen_ == 0) return;
  const double fraction = static_cast<double>(total_) / static_cast<double>(seen_);
  if (fraction <= max_fraction_) return;
  std::string message = what + ": " + std::to_string(total_) + " bad samples of " + std::to_string(seen_) +
                        " (" + std::to_string(fraction * 100) + "%) exceeds data.max_bad_fraction " +
                        std::to_string(max_fraction_) + "; first:";
  for (const auto& example : examples_) {
    message += "\n  " + std::string(bad_kind_name(example.kind)) + ": " + example.where + ": " + example.reason;
  }
  throw DataError(message);
}

bool is_valid_utf8(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    int length = 0;
    uint32_t code = 0;
    if (c < 0x80) { ++p; continue; }
    if ((c & 0xE0) == 0xC0) { length = 2; code = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { length = 3; code = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { length = 4; code = c & 0x07; }
    else return false;
    if (end - p < length) return false;
    for (int i = 1; i < length; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      code = (code << 6) | (p[i] & 0x3F);
    }
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    p += length;
  }
  return true;
}

}  // namespace mmtrain
