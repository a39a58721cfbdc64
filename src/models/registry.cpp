#include "mmtrain/models/registry.h"

#include <mutex>

#include "mmtrain/errors.h"
#include "mmtrain/heads/task_head.h"
#include "mmtrain/models/late_fusion.h"
#include "mmtrain/models/text_transformer.h"
#include "mmtrain/models/vit.h"
#include "mmtrain/models/zoo_fusion.h"
#include "mmtrain/models/zoo_towers.h"

namespace mmtrain {

namespace {

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
                                       .pool(parse_pooling(c.pool))
                                       .attn_pool_queries(c.attn_pool_queries)
                                       .attn_pool_heads(c.attn_pool_heads)
                                       .attn_pool_width(c.attn_pool_width)
                                       .patch_dropout(c.patch_dropout));
}

std::shared_ptr<TextTowerImpl> make_text_transformer(const TextConfig& c, const TextVocab& vocab) {
  return std::make_shared<TextTransformerImpl>(
      TextTransformerOptions(vocab.vocab_size, vocab.eos_id)
          .context_length(c.context_length)
          .width(c.width)
          .layers(c.layers)
          .heads(c.heads)
          .mlp_ratio(c.mlp_ratio)
          .act(parse_activation(c.act))
          .embed_cls(c.embed_cls)
          .pad_id(vocab.pad_id));
}

}  // namespace

Registry<VisionTowerFactory>& vision_tower_registry() {
  static Registry<VisionTowerFactory> registry("type");
  return registry;
}
Registry<TextTowerFactory>& text_tower_registry() {
  static Registry<TextTowerFactory> registry("type");
  return registry;
}
Registry<FusionEntry>& fusion_registry() {
  static Registry<FusionEntry> registry("type");
  return registry;
}

void register_builtin_models() {
  static std::once_flag once;
  std::call_once(once, [] {
    vision_tower_registry().add("vit", make_vit);
    text_tower_registry().add("transformer", make_text_transformer);
    // The dual encoder: the pooled outputs' embeddings, nothing more.
    fusion_registry().add("late", {FusionDescriptor{}, [](const FusionConfig&, const FusionDims& dims) {
                                     return std::make_shared<LateFusionImpl>(dims);
                                   }});
    register_zoo_fusion();
    register_zoo_towers();
  });
}

std::shared_ptr<VisionTowerImpl> build_vision_tower(const VisionConfig& config) {
  return vision_tower_registry().find(config.type, "model.vision.type")(config);
}

std::shared_ptr<TextTowerImpl> build_text_tower(const TextConfig& config, const TextVocab& vocab) {
  return text_tower_registry().find(config.type, "model.text.type")(config, vocab);
}

MultimodalModel build_model(const ModelConfig& config, const TextVocab& vocab) {
  register_builtin_models();
  auto vision = build_vision_tower(config.vision);
  auto text = build_text_tower(config.text, vocab);
  auto fusion = fusion_registry().find(config.fusion.type, "model.fusion.type").factory(
      config.fusion,
      FusionDims().image_width(vision->width()).text_width(text->width()).embed_dim(config.embed_dim));
  MultimodalModel model(std::move(vision), std::move(text), std::move(fusion));
  if (!config.head.type.empty()) model->attach_head(build_head(config.head, *model, config.embed_dim, vocab));
  return model;
}

FusionDescriptor descriptor_of(const FusionImpl& fusion) {
  return FusionDescriptor{fusion.has_match(), fusion.uses_tokens()};
}

std::string unmet_needs(const ModelNeeds& needs, const FusionDescriptor& fusion) {
  const auto would_do = [](auto gives) {
    return " (use model.fusion.type " +
           alternatives(fusion_registry().names_where(
               [&](const FusionEntry& entry) { return gives(entry.descriptor); })) +
           ")";
  };
  if (needs.match_head && !fusion.has_match_head) {
    return "this fusion has no match head" +
           would_do([](const FusionDescriptor& d) { return d.has_match_head; });
  }
  if ((needs.vision_tokens || needs.text_tokens) && !fusion.reads_tokens) {
    return "this fusion has the towers give their pooled outputs only, not every token" +
           would_do([](const FusionDescriptor& d) { return d.reads_tokens; });
  }
  return "";
}

}  // namespace mmtrain
