#include "mmtrain/data/action_space.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "mmtrain/errors.h"

namespace mmtrain {

ActionSpace::ActionSpace(std::vector<float> low, std::vector<float> high) : low_(std::move(low)), high_(std::move(high)) {
  if (low_.size() != high_.size() || low_.empty()) {
    throw DataError("action space: needs one low and one high value per action dimension");
  }
}

ActionSpace ActionSpace::build(const PairDataset& dataset) {
  std::vector<float> low, high;
  for (const PairSample& sample : dataset.samples) {
    if (low.empty()) low = high = sample.action;
    for (size_t d = 0; d < sample.action.size() && d < low.size(); ++d) {
      low[d] = std::min(low[d], sample.action[d]);
      high[d] = std::max(high[d], sample.action[d]);
    }
  }
  if (low.empty()) throw DataError(dataset.source + ": no actions (an action head trains on data type episodes)");
  return ActionSpace(std::move(low), std::move(high));
}

float ActionSpace::scale(int64_t dim, float value) const {
  const float lo = low_[static_cast<size_t>(dim)], hi = high_[static_cast<size_t>(dim)];
  if (!(hi > lo)) return 0.0f;
  return std::clamp(2.0f * (value - lo) / (hi - lo) - 1.0f, -1.0f, 1.0f);
}

float ActionSpace::unscale(int64_t dim, float scaled) const {
  const float lo = low_[static_cast<size_t>(dim)], hi = high_[static_cast<size_t>(dim)];
  return lo + (std::clamp(scaled, -1.0f, 1.0f) + 1.0f) * 0.5f * (hi - lo);
}

int64_t ActionSpace::bin_of(float scaled, int64_t bins) {
  const auto bin = static_cast<int64_t>(std::floor((std::clamp(scaled, -1.0f, 1.0f) + 1.0f) * 0.5f * static_cast<float>(bins)));
  return std::clamp<int64_t>(bin, 0, bins - 1);
}

float ActionSpace::bin_centre(int64_t bin, int64_t bins) {
  return (static_cast<float>(bin) + 0.5f) / static_cast<float>(bins) * 2.0f - 1.0f;
}

void ActionSpace::fill_chunk(const PairDataset& dataset, int64_t id, int chunk, float* out) const {
  const auto& samples = dataset.samples;
  const int64_t episode = samples[static_cast<size_t>(id)].episode;
  int64_t source = id;
  for (int t = 0; t < chunk; ++t) {
    if (t > 0 && source + 1 < static_cast<int64_t>(samples.size()) && samples[static_cast<size_t>(source + 1)].episode == episode) {
      ++source;
    }
    const auto& action = samples[static_cast<size_t>(source)].action;
    for (int64_t d = 0; d < dims(); ++d) {
      const float value = d < static_cast<int64_t>(action.size()) ? action[static_cast<size_t>(d)] : 0.0f;
      out[t * dims() + d] = scale(d, value);
    }
  }
}

std::string ActionSpace::to_text() const {
  std::ostringstream out;
  out.precision(9);
  for (size_t d = 0; d < low_.size(); ++d) out << low_[d] << ' ' << high_[d] << '\n';
  return out.str();
}

ActionSpace ActionSpace::from_text(const std::string& text) {
  std::istringstream in(text);
  std::vector<float> low, high;
  for (float lo = 0, hi = 0; in >> lo >> hi;) {
    low.push_back(lo);
    high.push_back(hi);
  }
  return ActionSpace(std::move(low), std::move(high));
}

}  // namespace mmtrain
