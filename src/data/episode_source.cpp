// Robot episodes as JSON lines, one line per step (data type episodes).
#include <algorithm>
#include <fstream>
#include <numeric>
#include <optional>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "pair_builder.h"

namespace mmtrain {

using nlohmann::json;

namespace {

// Episode ids may be numbers or strings (a robot log's run name): both become a key.
std::optional<std::string> episode_key(const json& object) {
  const auto it = object.find("episode");
  if (it == object.end()) return std::nullopt;
  if (it->is_string()) return "s" + it->get<std::string>();
  if (it->is_number_integer()) return "n" + std::to_string(it->get<int64_t>());
  return std::nullopt;
}

class EpisodeReader {
 public:
  explicit EpisodeReader(const PairSourceConfig& config)
      : image_key_(json_image_key(config)), builder_(config.path, config.image_root) {}

  void add_line(const std::string& line, int64_t number) {
    if (!is_valid_utf8(line)) return builder_.add_bad(BadKind::kBadUtf8, number, "line is not valid UTF-8");
    const json object = json::parse(line, nullptr, false);
    if (object.is_discarded() || !object.is_object()) return builder_.add_bad(BadKind::kBadRow, number, "expected a JSON object");
    const std::string* image = string_member(object, image_key_);
    const std::string* instruction = string_member(object, "instruction");
    const auto episode = episode_key(object);
    const auto step = object.find("step");
    auto state = numbers_member(object, "state");
    auto action = numbers_member(object, "action");
    if (!image || !instruction || !episode || step == object.end() || !step->is_number_integer() || !state || !action) {
      return builder_.add_bad(BadKind::kBadRow, number,
                              "expected \"episode\" (number or string), \"step\" (integer), \"" + image_key_ +
                                  "\" and \"instruction\" (strings), \"state\" and \"action\" (lists of numbers)");
    }
    if (!same_length(state_dims_, *state) || !same_length(action_dims_, *action)) {
      return builder_.add_bad(BadKind::kBadRow, number,
                              "\"state\" and \"action\" must have the lengths of the first row's (" +
                                  std::to_string(state_dims_) + " and " + std::to_string(action_dims_) + ")");
    }
    std::vector<float> target;
    if (!read_target(object, target)) {
      return builder_.add_bad(BadKind::kBadRow, number,
                              "\"target\" must be the named object's place, [x, y] in [0,1] over the image");
    }
    PairSample* sample = builder_.add(*image, {*instruction}, number);
    if (!sample) return;
    sample->episode = episode_index(*episode);
    sample->state = std::move(*state);
    sample->action = std::move(*action);
    sample->target = std::move(target);
    if (const std::string* task = string_member(object, "task")) sample->question_type = *task;
    steps_.push_back(step->get<int64_t>());
  }

  // The samples grouped by episode (first appearance) and sorted by step within each.
  PairDataset finish() {
    PairDataset dataset = builder_.finish();
    std::vector<size_t> order(dataset.samples.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const auto& sa = dataset.samples[a];
      const auto& sb = dataset.samples[b];
      return sa.episode != sb.episode ? sa.episode < sb.episode : steps_[a] < steps_[b];
    });
    std::vector<PairSample> sorted;
    sorted.reserve(order.size());
    for (size_t i : order) sorted.push_back(std::move(dataset.samples[i]));
    dataset.samples = std::move(sorted);
    return dataset;
  }

 private:
  // The first row fixes the lengths.
  static bool same_length(int64_t& dims, const std::vector<float>& values) {
    if (dims == 0) dims = static_cast<int64_t>(values.size());
    return dims == static_cast<int64_t>(values.size());
  }

  int64_t episode_index(const std::string& key) {
    return episodes_.emplace(key, static_cast<int64_t>(episodes_.size())).first->second;
  }

  std::string image_key_;
  PairBuilder builder_;
  int64_t state_dims_ = 0, action_dims_ = 0;
  std::unordered_map<std::string, int64_t> episodes_;
  std::vector<int64_t> steps_;  // per sample added
};

}  // namespace

PairDataset read_episodes(const PairSourceConfig& config) {
  std::ifstream in(config.path);
  if (!in) throw DataError(config.path + ": cannot open");
  EpisodeReader reader(config);
  int64_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") != std::string::npos) reader.add_line(line, number);
  }
  return reader.finish();
}

}  // namespace mmtrain
