// Towers and fusion modules chosen by name in YAML, each in a Registry (mmtrain/registry.h) filled
// by register_builtin_models(), and what a fusion offers to the loss terms and task heads that
// read the model (its descriptor, checked against their needs).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/models/fusion.h"
#include "mmtrain/models/multimodal_model.h"
#include "mmtrain/models/tower.h"
#include "mmtrain/registered_names.h"
#include "mmtrain/registry.h"

namespace mmtrain {

// What a text tower needs to know of the tokenizer.
struct TextVocab {
  int64_t vocab_size = 0;
  int64_t eos_id = 0;
  int64_t pad_id = 0;
};

using VisionTowerFactory = std::function<std::shared_ptr<VisionTowerImpl>(const VisionConfig&)>;
using TextTowerFactory =
    std::function<std::shared_ptr<TextTowerImpl>(const TextConfig&, const TextVocab&)>;
using FusionFactory =
    std::function<std::shared_ptr<FusionImpl>(const FusionConfig&, const FusionDims&)>;

// What a fusion type gives beyond the dual-encoder embeddings every fusion gives. Registered with
// the type so that a refusal can name the types that would do without building one; a test
// checks every registered type against its built module (has_match, uses_tokens).
struct FusionDescriptor {
  bool has_match_head = false;  // FusionImpl::match scores aligned pairs (the fused types)
  bool reads_tokens = false;    // the towers give every token to ModelOutput, not only the pooled one
};

struct FusionEntry {
  FusionDescriptor descriptor;
  FusionFactory factory;
};

Registry<VisionTowerFactory>& vision_tower_registry();
Registry<TextTowerFactory>& text_tower_registry();
Registry<FusionEntry>& fusion_registry();

// Idempotent: registers every built-in tower and fusion (vit, transformer, late, early,
// cross_attention, and the zoo towers).
void register_builtin_models();

// Throw ConfigError naming the key and the valid types when a type is unknown.
std::shared_ptr<VisionTowerImpl> build_vision_tower(const VisionConfig& config);
std::shared_ptr<TextTowerImpl> build_text_tower(const TextConfig& config, const TextVocab& vocab);
MultimodalModel build_model(const ModelConfig& config, const TextVocab& vocab);

// What a loss term or a task head reads of the model beyond the contrastive embeddings.
struct ModelNeeds {
  bool vision_tokens = false;  // ModelOutput::image.tokens [B,T,D]
  bool text_tokens = false;    // ModelOutput::text.tokens [B,L,D]
  bool match_head = false;     // FusionImpl::match on aligned pairs
  bool any() const { return vision_tokens || text_tokens || match_head; }
};

// A built fusion's descriptor, read from the module itself, whatever name built it.
FusionDescriptor descriptor_of(const FusionImpl& fusion);

// "" when `fusion` gives everything in `needs`; else what it lacks and the registered fusion types
// that would give it, e.g. "this fusion has no match head (use model.fusion.type early or
// cross_attention)".
std::string unmet_needs(const ModelNeeds& needs, const FusionDescriptor& fusion);

}  // namespace mmtrain
