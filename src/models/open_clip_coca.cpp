#include "open_clip_coca.h"

#include <vector>

#include "key_rules.h"
#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

using nlohmann::json;

template <class T>
T value_or(const json& section, const char* key, T fallback) {
  return section.contains(key) ? section.at(key).get<T>() : fallback;
}

void require(bool ok, const std::string& where, const std::string& why) {
  if (!ok) throw ConfigError(where + ": " + why);
}

// open_clip key -> ours; the first match wins, so exact names come before prefixes.
constexpr KeyRule kCocaRules[] = {
    {"visual.proj", "fusion.image_projection", false},
    {"text.text_projection", "fusion.text_projection", false},
    {"logit_scale", "fusion.logit_scale", false},
    {"visual.", "vision.", true},
    {"text_decoder.", "head.", true},
    {"text.", "text.", true},
};

// Keys with no counterpart stay as they are, to be reported by the loader.
std::string coca_key(const std::string& key) {
  const std::string ours = renamed_key(key, kCocaRules, /*to_ours=*/true);
  return ours.empty() ? key : ours;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// nn.MultiheadAttention's packed q;k;v rows -> CrossAttention's q_proj and kv_proj (k;v rows).
void split_packed(TensorMap& ours, const std::string& attn, const torch::Tensor& weight, const torch::Tensor& bias) {
  const int64_t width = bias.size(0) / 3;
  if (weight.defined()) {
    ours[attn + "q_proj.weight"] = weight.narrow(0, 0, width);
    ours[attn + "kv_proj.weight"] = weight.narrow(0, width, 2 * width);
  }
  ours[attn + "q_proj.bias"] = bias.narrow(0, 0, width);
  ours[attn + "kv_proj.bias"] = bias.narrow(0, width, 2 * width);
}

// The attentions mmtrain keeps as q_proj + kv_proj: the decoder's cross-attention and the pooler.
void repack_attention(TensorMap& ours) {
  std::vector<std::string> packed;
  for (const auto& [name, value] : ours) {
    if (ends_with(name, ".attn.in_proj_bias") &&
        (name.rfind("head.cross_attn.", 0) == 0 || name.rfind("vision.attn_pool.", 0) == 0)) {
      packed.push_back(name.substr(0, name.size() - std::string("in_proj_bias").size()));
    }
  }
  for (const auto& attn : packed) {
    const auto weight = ours.count(attn + "in_proj_weight") ? ours.at(attn + "in_proj_weight") : torch::Tensor();
    split_packed(ours, attn, weight, ours.at(attn + "in_proj_bias"));
    ours.erase(attn + "in_proj_weight");
    ours.erase(attn + "in_proj_bias");
    // A pooler over tokens of another width has q, k and v weights apart.
    if (ours.count(attn + "q_proj_weight")) {
      ours[attn + "q_proj.weight"] = ours.at(attn + "q_proj_weight");
      ours[attn + "kv_proj.weight"] = torch::cat({ours.at(attn + "k_proj_weight"), ours.at(attn + "v_proj_weight")});
      for (const char* part : {"q_proj_weight", "k_proj_weight", "v_proj_weight"}) ours.erase(attn + part);
    }
  }
}

}  // namespace

const char* const kCocaVisionKeys[4] = {"attentional_pool", "attn_pooler_queries", "attn_pooler_heads", "output_tokens"};
const char* const kCocaTextKeys[3] = {"embed_cls", "output_tokens", "pad_id"};

bool is_coca_config(const json& model) { return model.contains("multimodal_cfg"); }

void read_coca_config(const json& model, const std::string& where, ModelConfig& config) {
  const json& multimodal = model.at("multimodal_cfg");
  const json vision = model.value("vision_cfg", json::object());
  const json text = model.value("text_cfg", json::object());
  const json pool = vision.value("attentional_pool", json(false));
  require(pool.is_boolean(), where + ".vision_cfg.attentional_pool",
          "only true or false maps (found " + pool.dump() + "; 'parallel' and 'cascade' are not implemented)");
  require(value_or(text, "embed_cls", false), where + ".text_cfg.embed_cls",
          "CoCa's text tower appends a class token; a config without it does not map");
  require(value_or<int64_t>(text, "pad_id", 0) == 0, where + ".text_cfg.pad_id", "only 0 (CLIP's padding) maps");
  if (pool.get<bool>()) {
    config.vision.attn_pool_queries = value_or(vision, "attn_pooler_queries", 256);
    config.vision.attn_pool_heads = value_or(vision, "attn_pooler_heads", 8);
    config.vision.attn_pool_width = config.embed_dim;
  }
  config.text.embed_cls = true;
  const int width = value_or(multimodal, "width", 512);
  require(width == config.text.width && width == config.embed_dim, where + ".multimodal_cfg.width",
          "CoCa's decoder, text tower and embedding must have one width (found " + std::to_string(width) + ", " +
              std::to_string(config.text.width) + " and " + std::to_string(config.embed_dim) + ")");
  config.head.type = "caption";
  config.head.layers = value_or(multimodal, "layers", 12);
  config.head.heads = value_or(multimodal, "heads", 8);
  config.head.mlp_ratio = 4.0;  // open_clip's MultimodalTransformer ignores multimodal_cfg.mlp_ratio
}

bool is_coca_state_dict(const TensorMap& state) {
  for (const auto& item : state) {
    if (item.first.rfind("text_decoder.", 0) == 0) return true;
  }
  return false;
}

TensorMap from_coca_state_dict(const TensorMap& state) {
  TensorMap ours;
  for (const auto& [key, value] : state) ours.emplace(coca_key(key), value);
  repack_attention(ours);
  return ours;
}

}  // namespace mmtrain
