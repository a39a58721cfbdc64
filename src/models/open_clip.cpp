#include "mmtrain/models/open_clip.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mmtrain/errors.h"
#include "mmtrain/io/torch_state_dict.h"
#include "key_rules.h"
#include "open_clip_coca.h"

namespace mmtrain {

namespace {

using nlohmann::json;

// open_clip key -> our name; exact names first, then prefixes.
constexpr KeyRule kKeyRules[] = {
    {"visual.proj", "fusion.image_projection", false},
    {"text_projection", "fusion.text_projection", false},
    {"logit_scale", "fusion.logit_scale", false},
    {"positional_embedding", "text.positional_embedding", false},
    {"visual.", "vision.", true},
    {"token_embedding.", "text.token_embedding.", true},
    {"transformer.", "text.transformer.", true},
    {"ln_final.", "text.ln_final.", true},
};

std::string map_key(const std::string& key, bool to_ours) { return renamed_key(key, kKeyRules, to_ours); }

json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read open_clip config");
  const json parsed = json::parse(in, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) throw ConfigError(path + ": not a JSON object");
  return parsed;
}

// Keys whose presence means an architecture our towers do not implement.
void refuse_unknown_keys(const json& section, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [key, value] : section.items()) {
    if (known.count(key) == 0) {
      throw ConfigError(where + "." + key + ": not supported (" + value.dump() +
                        "); mmtrain maps ViT + text transformer CLIP models");
    }
  }
}

template <class T>
T value_or(const json& section, const char* key, T fallback) {
  return section.contains(key) ? section.at(key).get<T>() : fallback;
}

// The keys a tower section may hold: CLIP's, and for CoCa also `extra`.
template <size_t N>
std::set<std::string> known_keys(std::set<std::string> keys, bool coca, const char* const (&extra)[N]) {
  if (coca) keys.insert(std::begin(extra), std::end(extra));
  return keys;
}

VisionConfig vision_from(const json& v, const std::string& where, bool coca) {
  refuse_unknown_keys(v,
                      known_keys({"image_size", "patch_size", "width", "layers", "head_width", "mlp_ratio", "pool_type",
                                  "patch_dropout"},  // a training choice: model.vision.patch_dropout
                                 coca, kCocaVisionKeys),
                      where);
  if (v.contains("layers") && !v.at("layers").is_number_integer()) {
    throw ConfigError(where + ".layers: a list means a ResNet tower, which does not map to vit");
  }
  if (value_or<std::string>(v, "pool_type", "tok") != "tok") {
    throw ConfigError(where + ".pool_type: only 'tok' (class token) maps to vit pool: cls");
  }
  VisionConfig c;
  const json size = v.value("image_size", json(224));
  if (size.is_array()) {
    if (size.size() != 2 || size[0] != size[1]) throw ConfigError(where + ".image_size: only square images map");
    c.image_size = size[0].get<int>();
  } else {
    c.image_size = size.get<int>();
  }
  c.patch_size = value_or(v, "patch_size", 16);
  c.width = value_or(v, "width", 768);
  c.layers = value_or(v, "layers", 12);
  c.heads = c.width / value_or(v, "head_width", 64);
  c.mlp_ratio = value_or(v, "mlp_ratio", 4.0);
  return c;
}

TextConfig text_from(const json& t, const std::string& where, bool coca) {
  refuse_unknown_keys(t,
                      known_keys({"context_length", "vocab_size", "width", "heads", "layers", "mlp_ratio", "pool_type"},
                                 coca, kCocaTextKeys),
                      where);
  if (value_or<std::string>(t, "pool_type", "argmax") != "argmax") {
    throw ConfigError(where + ".pool_type: only 'argmax' (the end-of-text token) maps");
  }
  TextConfig c;
  c.context_length = value_or(t, "context_length", 77);
  c.width = value_or(t, "width", 512);
  c.heads = value_or(t, "heads", 8);
  c.layers = value_or(t, "layers", 12);
  c.mlp_ratio = value_or(t, "mlp_ratio", 4.0);
  return c;
}

// [1+g*g, D] -> [1+G*G, D]: the class token kept, the grid resized bicubically.
torch::Tensor resize_grid_embedding(const torch::Tensor& source, int64_t target_tokens) {
  const auto old_grid = static_cast<int64_t>(std::lround(std::sqrt(source.size(0) - 1)));
  const auto new_grid = static_cast<int64_t>(std::lround(std::sqrt(target_tokens - 1)));
  const int64_t width = source.size(1);
  auto grid = source.slice(0, 1).reshape({1, old_grid, old_grid, width}).permute({0, 3, 1, 2});
  grid = torch::nn::functional::interpolate(
      grid.to(torch::kFloat), torch::nn::functional::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{new_grid, new_grid})
                                  .mode(torch::kBicubic)
                                  .align_corners(false));
  grid = grid.permute({0, 2, 3, 1}).reshape({new_grid * new_grid, width});
  return torch::cat({source.slice(0, 0, 1), grid.to(source.dtype())});
}

// [L, D] -> [L', D], linearly over positions.
torch::Tensor resize_sequence_embedding(const torch::Tensor& source, int64_t target_length) {
  auto x = source.t().unsqueeze(0).to(torch::kFloat);  // [1,D,L]
  x = torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                .size(std::vector<int64_t>{target_length})
                                                .mode(torch::kLinear)
                                                .align_corners(false));
  return x.squeeze(0).t().to(source.dtype());
}

std::string shape_text(c10::IntArrayRef sizes) {
  std::ostringstream out;
  out << sizes;
  return out.str();
}

std::string join_some(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < 10; ++i) text += (i ? ", " : "") + names[i];
  if (names.size() > 10) text += ", ... (" + std::to_string(names.size()) + " in all)";
  return text;
}

// DataParallel and DDP checkpoints prefix every key with "module.".
TensorMap without_module_prefix(TensorMap state) {
  for (const auto& [key, value] : state) {
    if (key.rfind("module.", 0) != 0) return state;
  }
  TensorMap stripped;
  for (auto& [key, value] : state) stripped.emplace(key.substr(7), std::move(value));
  return stripped;
}

}  // namespace

std::string from_open_clip_key(const std::string& key) { return map_key(key, true); }
std::string to_open_clip_key(const std::string& name) { return map_key(name, false); }

OpenClipConfig read_open_clip_config(const std::string& path) {
  const json file = read_json(path);
  const bool wrapped = file.contains("model_cfg");
  const json& model = wrapped ? file.at("model_cfg") : file;
  const std::string where = path + ": " + (wrapped ? "model_cfg" : "");
  try {
    refuse_unknown_keys(model, {"embed_dim", "vision_cfg", "text_cfg", "quick_gelu", "custom_text", "multimodal_cfg"},
                        wrapped ? where : path + ": ");
    const bool coca = is_coca_config(model);
    OpenClipConfig config;
    config.model.embed_dim = model.at("embed_dim").get<int>();
    config.model.vision = vision_from(model.value("vision_cfg", json::object()), where + ".vision_cfg", coca);
    config.model.text = text_from(model.value("text_cfg", json::object()), where + ".text_cfg", coca);
    if (coca) read_coca_config(model, where, config.model);
    config.vocab_size = value_or<int64_t>(model.value("text_cfg", json::object()), "vocab_size", 49408);
    const std::string act = value_or(model, "quick_gelu", false) ? "quick_gelu" : "gelu";
    config.model.vision.act = config.model.text.act = act;
    if (wrapped && file.contains("preprocess_cfg")) {
      const json& pre = file.at("preprocess_cfg");
      config.mean = pre.value("mean", config.mean);
      config.std = pre.value("std", config.std);
    }
    return config;
  } catch (const json::exception& error) {
    throw ConfigError(path + ": " + error.what());
  }
}

std::string open_clip_config_json(const Config& config, int64_t vocab_size) {
  const auto& m = config.model;
  auto refuse = [](const std::string& why) {
    throw ConfigError("open_clip cannot load this model: " + why);
  };
  if (m.vision.type != "vit" || m.vision.pool != "cls") refuse("the vision tower is not a class-token ViT");
  if (m.text.type != "transformer") refuse("the text tower is not CLIP's transformer");
  if (m.fusion.type != "late") refuse("fusion '" + m.fusion.type + "' is not CLIP's dual encoder");
  if (!m.head.type.empty()) refuse("mmtrain exports CLIP models; its '" + m.head.type + "' head has no export (CoCa weights import only)");
  if (m.vision.act != m.text.act) refuse("the towers use different activations");
  if (config.tokenizer.type != "clip_bpe") refuse("its tokenizer is '" + config.tokenizer.type + "', not CLIP's BPE");
  json model = {
      {"embed_dim", m.embed_dim},
      {"vision_cfg", {{"image_size", m.vision.image_size}, {"patch_size", m.vision.patch_size},
                      {"width", m.vision.width}, {"layers", m.vision.layers},
                      {"head_width", m.vision.width / m.vision.heads}, {"mlp_ratio", m.vision.mlp_ratio}}},
      {"text_cfg", {{"context_length", m.text.context_length}, {"vocab_size", vocab_size},
                    {"width", m.text.width}, {"heads", m.text.heads}, {"layers", m.text.layers},
                    {"mlp_ratio", m.text.mlp_ratio}}}};
  if (m.vision.act == "quick_gelu") model["quick_gelu"] = true;
  const json file = {{"model_cfg", model},
                     {"preprocess_cfg", {{"mean", config.data.mean}, {"std", config.data.std},
                                         {"interpolation", "bicubic"}, {"resize_mode", "shortest"}}}};
  return file.dump(2) + "\n";
}

TensorMap read_weight_file(const std::string& path) {
  const bool safetensors = path.size() >= 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0;
  return without_module_prefix(safetensors ? read_safetensors(path) : read_torch_state_dict(path));
}

TensorMap from_open_clip_state_dict(const TensorMap& state) {
  if (is_coca_state_dict(state)) return from_coca_state_dict(state);
  TensorMap ours;
  for (const auto& [key, value] : state) {
    const std::string name = from_open_clip_key(key);
    ours.emplace(name.empty() ? key : name, value);  // unmapped keys stay, to be reported
  }
  return ours;
}

TensorMap to_open_clip_state_dict(MultimodalModelImpl& model) {
  TensorMap state;
  for (const auto& item : model.named_parameters()) {
    const std::string key = to_open_clip_key(item.key());
    if (key.empty()) throw ConfigError("open_clip cannot load this model: '" + item.key() + "' has no counterpart");
    state.emplace(key, item.value().detach());
  }
  return state;
}

WeightLoadReport load_weights(MultimodalModelImpl& model, const TensorMap& weights, bool strict,
                              const std::string& source) {
  torch::NoGradGuard no_grad;
  WeightLoadReport report;
  auto parameters = model.named_parameters();
  // BatchNorm's running statistics are buffers: an mmtrain checkpoint of a convnet or ResNet has
  // them and a model started from it needs them; they are loaded when present, never required.
  auto buffers = model.named_buffers();
  std::set<std::string> loaded;
  for (const auto& [name, value] : weights) {
    torch::Tensor* target = parameters.find(name);
    if (target == nullptr) target = buffers.find(name);
    // Late fusion's modality-dropout placeholders belong to how a model was trained, not to it.
    if (target == nullptr && name.rfind("placeholders.", 0) == 0) continue;
    if (target == nullptr) {
      report.unexpected.push_back(name);
      continue;
    }
    torch::Tensor source_value = value;
    const bool is_position = name.size() >= 20 && name.compare(name.size() - 20, 20, "positional_embedding") == 0;
    if (value.sizes() != target->sizes() && is_position && value.dim() == 2) {
      source_value = name.rfind("vision.", 0) == 0 ? resize_grid_embedding(value, target->size(0))
                                                   : resize_sequence_embedding(value, target->size(0));
      report.resized.push_back(name + " " + shape_text(value.sizes()) + " -> " + shape_text(target->sizes()));
    } else if (value.sizes() != target->sizes()) {
      throw ConfigError(source + ": '" + name + "' has shape " + shape_text(value.sizes()) +
                        ", the model expects " + shape_text(target->sizes()));
    }
    target->copy_(source_value);
    loaded.insert(name);
  }
  const bool weights_have_head = std::any_of(weights.begin(), weights.end(),
                                            [](const auto& item) { return item.first.rfind("head.", 0) == 0; });
  for (const auto& item : parameters) {
    // The objective's own scalars (SigLIP scale and bias, uncertainty weights) are not weights.
    if (item.key().rfind("loss.", 0) == 0 || item.key().rfind("placeholders.", 0) == 0) continue;
    // A task head new to these weights (captioning fine-tuned from a contrastive model) starts
    // from its initialisation.
    if (!weights_have_head && item.key().rfind("head.", 0) == 0) continue;
    if (loaded.count(item.key()) == 0) report.missing.push_back(item.key());
  }
  if (strict && (!report.missing.empty() || !report.unexpected.empty())) {
    throw ConfigError(source + ": weights do not match the model (strict loading): missing [" +
                      join_some(report.missing) + "], unexpected [" + join_some(report.unexpected) + "]");
  }
  return report;
}

}  // namespace mmtrain
