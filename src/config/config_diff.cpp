#include "mmtrain/config/config_diff.h"

#include <map>

#include <yaml-cpp/yaml.h>

#include "mmtrain/config/load_config.h"

namespace mmtrain {

namespace {

void flatten(const YAML::Node& node, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      flatten(item.second, prefix.empty() ? key : prefix + "." + key, out);
    }
    return;
  }
  YAML::Emitter text;
  text << YAML::Flow << node;
  out[prefix] = text.c_str();
}

std::map<std::string, std::string> flat(const Config& config) {
  std::map<std::string, std::string> out;
  flatten(YAML::Load(config_to_yaml(config)), "", out);
  return out;
}

}  // namespace

std::vector<ConfigChange> diff_configs(const Config& before, const Config& after) {
  const auto a = flat(before), b = flat(after);
  std::vector<ConfigChange> changes;
  for (const auto& [key, value] : b) {
    const auto it = a.find(key);
    const std::string old_value = it == a.end() ? "(absent)" : it->second;
    if (old_value != value) changes.push_back({key, old_value, value});
  }
  return changes;
}

bool breaks_continuity(const std::string& key) {
  // Everything that feeds the numbers; what is left is logging, evaluation, checkpoint cadence,
  // threads, device and where the run lives.
  static const char* const kHarmless[] = {"run.name", "run.output_dir", "run.threads", "run.device",
                                          "data.workers", "train.log_every", "train.checkpoint_every",
                                          "train.keep_last", "train.max_nonfinite_in_a_row", "train.tensorboard",
                                          "eval."};
  for (const char* prefix : kHarmless) {
    if (key.rfind(prefix, 0) == 0) return false;
  }
  return true;
}

}  // namespace mmtrain
