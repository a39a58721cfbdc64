// A tiny model with the caption decoder, for the decoder, loss and generation tests: 16 px images
// of 4 patches, a vocabulary of `vocab` ids whose last is end-of-text and second last
// start-of-text.
#pragma once

#include "mmtrain/config/config.h"
#include "mmtrain/heads/caption_generation.h"
#include "mmtrain/models/registry.h"

namespace mmtrain::test {

inline ModelConfig caption_model_config() {
  ModelConfig config;
  config.embed_dim = 8;
  config.vision = VisionConfig{"vit", 16, 8, 16, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 8, 24, 1, 2, 4.0, "gelu"};
  config.head.type = "caption";
  config.head.layers = 2;
  config.head.heads = 2;
  return config;
}

inline MultimodalModel caption_model(int64_t vocab, uint64_t seed = 5) {
  torch::manual_seed(seed);
  auto model = build_model(caption_model_config(), TextVocab{vocab, vocab - 1});
  model->eval();
  return model;
}

inline CaptionTokens caption_tokens(int64_t vocab) { return CaptionTokens{vocab - 2, vocab - 1, 8, 0}; }

}  // namespace mmtrain::test
