#include "mmtrain/models/registry.h"

#include <map>
#include <mutex>

#include "mmtrain/errors.h"
#include "mmtrain/models/late_fusion.h"
#include "mmtrain/models/text_transformer.h"
#include "mmtrain/models/vit.h"
#include "mmtrain/models/zoo_fusion.h"
#include "mmtrain/models/zoo_towers.h"

namespace mmtrain {

namespace {

template <class Factory>
struct Registry {
  std::mutex mutex;
  std::map<std::string, Factory> factories;

  void add(const std::string& type, Factory factory) {
    std::lock_guard<std::mutex> lock(mutex);
    factories[type] = std::move(factory);
  }
  std::vector<std::string> types() {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::string> names;
    for (const auto& entry : factories) names.push_back(entry.first);
    return names;
  }
  Factory find(const std::string& type, const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = factories.find(type);
    if (it != factories.end()) return it->second;
    std::string valid;
    for (const auto& entry : factories) valid += (valid.empty() ? "" : ", ") + entry.first;
    throw ConfigError(key + ": unknown type '" + type + "' (valid: " + valid + ")");
  }
};

Registry<VisionTowerFactory>& vision_registry() {
  static Registry<VisionTowerFactory> registry;
  return registry;
}
Registry<TextTowerFactory>& text_registry() {
  static Registry<TextTowerFactory> registry;
  return registry;
}
Registry<FusionFactory>& fusion_registry() {
  static Registry<FusionFactory> registry;
  return registry;
}

Pooling parse_pooling(const std::string& name) {
  if (name == "cls") return Pooling::Cls;
  if (name == "mean") return Pooling::Mean;
  throw ConfigError("model.vision.pool: '" + name + "' is not one of: cls, mean");
}

std::shared_ptr<VisionTowerImpl> make_vit(const VisionConfig& c) {
  return std::make_shared<VitImpl>(VitOptions(c.image_size)
                                       .patch_size(c.patch_size)
                                       .width(c.width)
                                       .layers(c.layers)
                                       .heads(c.heads)
                                       .mlp_ratio(c.mlp_ratio)
                                       .act(parse_activation(c.act))
                                       .pool(parse_pooling(c.pool)));
}

std::shared_ptr<TextTowerImpl> make_text_transformer(const TextConfig& c, const TextVocab& vocab) {
  return std::make_shared<TextTransformerImpl>(
      TextTransformerOptions(vocab.vocab_size, vocab.eos_id)
          .context_length(c.context_length)
          .width(c.width)
          .layers(c.layers)
          .heads(c.heads)
          .mlp_ratio(c.mlp_ratio)
          .act(parse_activation(c.act)));
}

}  // namespace

void register_vision_tower(const std::string& type, VisionTowerFactory factory) {
  vision_registry().add(type, std::move(factory));
}
void register_text_tower(const std::string& type, TextTowerFactory factory) {
  text_registry().add(type, std::move(factory));
}
void register_fusion(const std::string& type, FusionFactory factory) {
  fusion_registry().add(type, std::move(factory));
}

void register_builtin_models() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_vision_tower("vit", make_vit);
    register_text_tower("transformer", make_text_transformer);
    register_fusion("late", [](const FusionConfig&, const FusionDims& dims) {
      return std::make_shared<LateFusionImpl>(dims);
    });
    register_zoo_fusion();
    register_zoo_towers();
  });
}

std::vector<std::string> vision_tower_types() { return vision_registry().types(); }
std::vector<std::string> text_tower_types() { return text_registry().types(); }
std::vector<std::string> fusion_types() { return fusion_registry().types(); }

std::shared_ptr<VisionTowerImpl> build_vision_tower(const VisionConfig& config) {
  return vision_registry().find(config.type, "model.vision.type")(config);
}

std::shared_ptr<TextTowerImpl> build_text_tower(const TextConfig& config, const TextVocab& vocab) {
  return text_registry().find(config.type, "model.text.type")(config, vocab);
}

MultimodalModel build_model(const ModelConfig& config, const TextVocab& vocab) {
  register_builtin_models();
  auto vision = build_vision_tower(config.vision);
  auto text = build_text_tower(config.text, vocab);
  auto fusion = fusion_registry().find(config.fusion.type, "model.fusion.type")(
      config.fusion,
      FusionDims().image_width(vision->width()).text_width(text->width()).embed_dim(config.embed_dim));
  return MultimodalModel(std::move(vision), std::move(text), std::move(fusion));
}

}  // namespace mmtrain
