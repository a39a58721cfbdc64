// The smallest model of each tower x fusion combination that still exercises every part: what
// the combination tests on the CPU and the CUDA-against-CPU tests build.
#pragma once

#include <string>
#include <tuple>

#include "mmtrain/config/config.h"

namespace mmtrain::test {

using Combination = std::tuple<std::string, std::string, std::string>;  // vision, text, fusion

inline ModelConfig small_model_config(const Combination& combination) {
  ModelConfig config;
  config.embed_dim = 16;
  // 64 px: the resnet then has a 2x2 feature map; with one image token, cross-attention
  // (a softmax over one key) would rightly give its query projection no gradient.
  config.vision = VisionConfig{std::get<0>(combination), 64, 16, 16, 2, 2, 4.0, "gelu", "cls"};
  config.vision.stage_layers = {1, 1, 1, 1};
  config.text = TextConfig{std::get<1>(combination), 6, 16, 1, 2, 4.0, "gelu"};
  config.fusion = FusionConfig{std::get<2>(combination), 16, 1, 2};
  return config;
}

inline std::string combination_name(const Combination& combination) {
  return std::get<0>(combination) + "_" + std::get<1>(combination) + "_" + std::get<2>(combination);
}

}  // namespace mmtrain::test
