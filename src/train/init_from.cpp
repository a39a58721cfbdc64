#include "mmtrain/train/init_from.h"

#include <sstream>

#include <spdlog/spdlog.h>

#include "mmtrain/config/load_config.h"
#include "mmtrain/errors.h"
#include "mmtrain/io/checkpoint_file.h"
#include "mmtrain/models/open_clip.h"
#include "mmtrain/text/build_tokenizer.h"

namespace mmtrain {

namespace {

void apply_size_overrides(const InitFromConfig& init, ModelConfig& model) {
  if (init.image_size > 0) model.vision.image_size = init.image_size;
  if (init.context_length > 0) model.text.context_length = init.context_length;
}

// The architecture comes with the weights; how the run trains it is this config's.
void adopt_vision(ModelConfig& model, const VisionConfig& source) {
  const double patch_dropout = model.vision.patch_dropout;
  model.vision = source;
  model.vision.patch_dropout = patch_dropout;
}

void require(const std::string& value, const std::string& key) {
  if (value.empty()) throw ConfigError(key + ": required with model.init_from.format");
}

}  // namespace

std::shared_ptr<const Tokenizer> adopt_init_architecture(Config& config) {
  const InitFromConfig init = config.model.init_from;
  if (init.format.empty()) return nullptr;
  require(init.weights, "model.init_from.weights");
  std::shared_ptr<const Tokenizer> tokenizer;
  if (init.format == "open_clip") {
    require(init.config, "model.init_from.config");
    if (config.tokenizer.type != "clip_bpe" || config.tokenizer.path.empty()) {
      throw ConfigError("tokenizer: open_clip weights need {type: clip_bpe, path: bpe_simple_vocab_16e6.txt.gz}");
    }
    const OpenClipConfig source = read_open_clip_config(init.config);
    config.model.embed_dim = source.model.embed_dim;
    adopt_vision(config.model, source.model.vision);
    config.model.text = source.model.text;
    if (!source.model.head.type.empty()) config.model.head = source.model.head;  // CoCa's decoder
    config.data.mean = source.mean;
    config.data.std = source.std;
  } else {
    const Checkpoint checkpoint = Checkpoint::load(init.weights);
    const Config source = parse_config(checkpoint.meta().config_yaml, init.weights + " (stored config)");
    config.model.embed_dim = source.model.embed_dim;
    adopt_vision(config.model, source.model.vision);
    config.model.text = source.model.text;
    config.model.fusion = source.model.fusion;
    config.tokenizer = source.tokenizer;
    tokenizer = tokenizer_from_bytes(checkpoint.meta().tokenizer_type, checkpoint.meta().tokenizer_bytes);
  }
  apply_size_overrides(init, config.model);
  config.model.init_from = init;
  spdlog::info("model.init_from: architecture of {} ({} format)", init.weights, init.format);
  return tokenizer;
}

TensorMap apply_key_map(const TensorMap& weights, const std::string& key_map, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> renames;
  std::stringstream stream(key_map);
  for (std::string pair; std::getline(stream, pair, ',');) {
    const auto equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw ConfigError("model.init_from.key_map: expected SOURCE_PREFIX=MODEL_PREFIX pairs separated by commas "
                        "(e.g. \"vision.=vision.\"), found '" + pair + "'");
    }
    renames.emplace_back(pair.substr(0, equals), pair.substr(equals + 1));
  }
  TensorMap mapped;
  std::vector<bool> used(renames.size(), false);
  for (const auto& [name, value] : weights) {
    for (size_t i = 0; i < renames.size(); ++i) {
      if (name.rfind(renames[i].first, 0) != 0) continue;
      mapped[renames[i].second + name.substr(renames[i].first.size())] = value;
      used[i] = true;
      break;
    }
  }
  for (size_t i = 0; i < renames.size(); ++i) {
    if (!used[i]) throw ConfigError("model.init_from.key_map: no weight of " + source + " starts with '" + renames[i].first + "'");
  }
  spdlog::info("model.init_from.key_map: {} of {} weights selected", mapped.size(), weights.size());
  return mapped;
}

void load_init_weights(const Config& config, MultimodalModelImpl& model) {
  const InitFromConfig& init = config.model.init_from;
  if (init.format.empty()) return;
  TensorMap weights;
  if (init.format == "open_clip") {
    weights = from_open_clip_state_dict(read_weight_file(init.weights));
  } else {
    weights = Checkpoint::load(init.weights).model_tensors();
  }
  const bool partial = !init.key_map.empty();
  if (partial) weights = apply_key_map(weights, init.key_map, init.weights);
  const WeightLoadReport report = load_weights(model, weights, init.strict && !partial, init.weights);
  if (partial && init.strict && !report.unexpected.empty()) {
    throw ConfigError("model.init_from.key_map: " + std::to_string(report.unexpected.size()) +
                      " mapped weights of " + init.weights + " match no parameter, e.g. '" +
                      report.unexpected.front() + "' (strict; set model.init_from.strict: false to drop them)");
  }
  for (const auto& line : report.resized) spdlog::info("interpolated {}", line);
  if (!report.missing.empty()) spdlog::warn("{} parameters not in {} keep their initialisation", report.missing.size(), init.weights);
  if (!report.unexpected.empty()) spdlog::warn("{} tensors of {} were not used", report.unexpected.size(), init.weights);
  spdlog::info("loaded weights from {}", init.weights);
}

namespace {

// Partial unlocking asks for a locked tower that has depth groups.
void check_unlocked(bool locked, int unlocked, const std::string& side, const std::string& key, bool has_groups) {
  if (unlocked == 0) return;
  if (!locked) throw ConfigError("model.lock." + key + ": leaves part of a locked tower trainable; set model.lock." + side + ": true");
  if (!has_groups) {
    throw ConfigError("model.lock." + key + ": this " + side + " tower has no depth groups to leave unlocked "
                      "(as in open_clip, only transformer towers unlock in part)");
  }
}

}  // namespace

void apply_locks(const LockConfig& lock, MultimodalModelImpl& model) {
  check_unlocked(lock.vision, lock.vision_unlocked_groups, "vision", "vision_unlocked_groups",
                 !model.vision_depth_groups().empty());
  check_unlocked(lock.text, lock.text_unlocked_layers, "text", "text_unlocked_layers", !model.text_depth_groups().empty());
  if (lock.vision) model.lock_vision(lock.vision_unlocked_groups);
  if (lock.text) model.lock_text(lock.text_unlocked_layers);
  if (lock.vision || lock.text) {
    spdlog::info("locked: {}{}{}{}", lock.vision ? "vision " : "",
                 lock.vision_unlocked_groups > 0 ? fmt::format("(top {} groups unlocked) ", lock.vision_unlocked_groups) : "",
                 lock.text ? "text" : "",
                 lock.text_unlocked_layers > 0 ? fmt::format(" (top {} groups unlocked)", lock.text_unlocked_layers) : "");
  }
}

}  // namespace mmtrain
