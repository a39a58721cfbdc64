// open_clip interoperability: its model config JSON to and from our ModelConfig, its state_dict
// key names to and from ours, and loading weights with positional embeddings resized when the
// image size or context length changes. Only ViT + text transformer + late fusion map to CLIP.
#pragma once

#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/io/safetensors.h"
#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

struct OpenClipConfig {
  ModelConfig model;
  int64_t vocab_size = 49408;
  std::vector<double> mean = {0.48145466, 0.4578275, 0.40821073};
  std::vector<double> std = {0.26862954, 0.26130258, 0.27577711};
};

// Accepts open_clip_config.json ({"model_cfg": ..., "preprocess_cfg": ...}) or a bare model
// config. Throws ConfigError naming the file and key for what cannot be represented.
OpenClipConfig read_open_clip_config(const std::string& path);
// open_clip_config.json text for `export`. Throws ConfigError when the model is not a CLIP.
std::string open_clip_config_json(const Config& config, int64_t vocab_size);

// Our parameter name for an open_clip key ("visual.proj" -> "fusion.image_projection"), or ""
// when the key has no counterpart.
std::string from_open_clip_key(const std::string& key);
std::string to_open_clip_key(const std::string& name);

// Weights by extension: .safetensors, else a torch.save'd state_dict (.pt/.bin).
TensorMap read_weight_file(const std::string& path);

struct WeightLoadReport {
  std::vector<std::string> missing;     // our parameters the file did not have
  std::vector<std::string> unexpected;  // file keys with no parameter
  std::vector<std::string> resized;     // positional embeddings interpolated
};

// Copies `weights` (keys already in our names) into the model. Positional embeddings of another
// length are interpolated (bicubic over the patch grid keeping the class token; linear over text
// positions); any other shape mismatch throws. With `strict`, missing or unexpected keys throw
// ConfigError listing them; otherwise they are reported.
WeightLoadReport load_weights(MultimodalModelImpl& model, const TensorMap& weights, bool strict,
                              const std::string& source);

TensorMap to_open_clip_state_dict(MultimodalModelImpl& model);
TensorMap from_open_clip_state_dict(const TensorMap& state);

}  // namespace mmtrain
