// Fine-tuning from existing weights (`model.init_from`): the architecture and tokenizer come with
// the weights, only input sizes may change; then optional tower locking (`model.lock`).
#pragma once

#include <memory>

#include "mmtrain/config/config.h"
#include "mmtrain/models/multimodal_model.h"
#include "mmtrain/models/open_clip.h"
#include "mmtrain/text/tokenizer.h"

namespace mmtrain {

// Replaces config.model's towers and embedding size with those of model.init_from (an mmtrain
// checkpoint's model section, or open_clip's model config; for open_clip also the preprocessing
// mean/std), applying init_from.image_size / context_length. Returns the tokenizer an mmtrain
// checkpoint carries; null for open_clip (which needs tokenizer.type clip_bpe with its path) or
// when init_from is unset.
std::shared_ptr<const Tokenizer> adopt_init_architecture(Config& config);

// Loads the init_from weights into a model built from the adopted config, strict as configured.
void load_init_weights(const Config& config, MultimodalModelImpl& model);

// model.init_from.key_map: keeps the weights under the listed source prefixes, renamed to the
// model prefixes ("vision.=vision.,fusion.dual.=fusion."). ConfigError for a malformed map or a
// prefix that selects nothing, naming `source`.
TensorMap apply_key_map(const TensorMap& weights, const std::string& key_map, const std::string& source);

void apply_locks(const LockConfig& lock, MultimodalModelImpl& model);

}  // namespace mmtrain
