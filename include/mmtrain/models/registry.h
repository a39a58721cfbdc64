// Towers and fusion modules chosen by name in YAML. Factories are registered by explicit calls
// (register_builtin_models), not static initialisers, which a static library would drop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/models/fusion.h"
#include "mmtrain/models/multimodal_model.h"
#include "mmtrain/models/tower.h"

namespace mmtrain {

// What a text tower needs to know of the tokenizer.
struct TextVocab {
  int64_t vocab_size = 0;
  int64_t eos_id = 0;
};

using VisionTowerFactory = std::function<std::shared_ptr<VisionTowerImpl>(const VisionConfig&)>;
using TextTowerFactory =
    std::function<std::shared_ptr<TextTowerImpl>(const TextConfig&, const TextVocab&)>;
using FusionFactory =
    std::function<std::shared_ptr<FusionImpl>(const FusionConfig&, const FusionDims&)>;

void register_vision_tower(const std::string& type, VisionTowerFactory factory);
void register_text_tower(const std::string& type, TextTowerFactory factory);
void register_fusion(const std::string& type, FusionFactory factory);
// Idempotent: registers every built-in tower and fusion (vit, transformer, late, early,
// cross_attention, and the zoo towers).
void register_builtin_models();

std::vector<std::string> vision_tower_types();
std::vector<std::string> text_tower_types();
std::vector<std::string> fusion_types();

// Throw ConfigError naming the key and the valid types when a type is unknown.
std::shared_ptr<VisionTowerImpl> build_vision_tower(const VisionConfig& config);
std::shared_ptr<TextTowerImpl> build_text_tower(const TextConfig& config, const TextVocab& vocab);
MultimodalModel build_model(const ModelConfig& config, const TextVocab& vocab);

}  // namespace mmtrain
