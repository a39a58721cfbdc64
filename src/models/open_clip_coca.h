// open_clip's CoCa (coca_model.py) in mmtrain's terms: its config's multimodal decoder, attentional
// pooler and class-token text tower, and its state_dict keys, with the attention projections that
// open_clip packs one way and mmtrain another split or joined. Internal to src/models (open_clip.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "mmtrain/config/config.h"
#include "mmtrain/io/safetensors.h"

namespace mmtrain {

// A CoCa model config has a multimodal_cfg.
bool is_coca_config(const nlohmann::json& model);

// The CoCa parts of `model` (an open_clip model config) into `config`, whose towers are already
// read: head caption, the vision tower's attentional pooler, the text tower's class token. Throws
// ConfigError naming `where` and the key for what mmtrain does not implement.
void read_coca_config(const nlohmann::json& model, const std::string& where, ModelConfig& config);

// The vision_cfg and text_cfg keys CoCa adds to CLIP's, accepted by the tower readers.
extern const char* const kCocaVisionKeys[4];
extern const char* const kCocaTextKeys[3];

// A CoCa state_dict in mmtrain's names; keys with no counterpart are kept, to be reported.
bool is_coca_state_dict(const TensorMap& state);
TensorMap from_coca_state_dict(const TensorMap& state);

}  // namespace mmtrain
