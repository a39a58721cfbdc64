// Task heads chosen by name in `model.head.type` (a captioning decoder; later VQA answer heads and
// action heads): modules that read the model's outputs for a task beyond contrastive alignment.
// Built-in heads register from register_builtin_heads(), which register_builtins() calls, as the
// towers, fusions and loss terms do.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "mmtrain/config/config.h"
#include "mmtrain/models/multimodal_model.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/registry.h"

namespace mmtrain {

struct HeadDescriptor {
  // What the head reads of the model beyond the contrastive embeddings. The towers' token outputs
  // (a decoder attending to image patches) are given whatever the fusion; the fusion's match head
  // only by a fused type: build_head refuses a model whose fusion cannot give it.
  ModelNeeds needs;
  // The head scores an answer vocabulary built from the training answers (vqa): the trainer builds
  // it and checkpoints keep it.
  bool answers = false;
  // The head predicts actions from robot episodes (action): the trainer builds an ActionSpace from
  // the training actions, fills model.head.action_dims and state_dims, and checkpoints keep it.
  bool actions = false;
};

// What a head is sized by: the towers' widths D, the embedding width E, the tokenizer.
struct HeadDims {
  int image_width = 0;
  int text_width = 0;
  int embed_dim = 0;
  int fused_width = 0;  // the fusion's joint representation; 0 for late fusion
  TextVocab vocab;
};

using HeadFactory = std::function<std::shared_ptr<TaskHeadImpl>(const HeadConfig&, const HeadDims&)>;

struct HeadEntry {
  HeadDescriptor descriptor;
  HeadFactory factory;
};

Registry<HeadEntry>& head_registry();

// Registers head class `Head` (constructed from (HeadConfig, HeadDims)) under `type`.
template <class Head>
void register_head(const std::string& type, const HeadDescriptor& descriptor) {
  head_registry().add(type, {descriptor, [](const HeadConfig& config, const HeadDims& dims) {
                               return std::make_shared<Head>(config, dims);
                             }});
}

// The model's head as `Head`; throws ConfigError "<what> needs <a kind>: set model.head.type:
// <type>" when the model has another or none.
[[noreturn]] void throw_missing_head(const std::string& what, const std::string& kind, const std::string& type);
template <class Head>
Head& head_of(MultimodalModelImpl& model, const std::string& what, const std::string& kind, const std::string& type) {
  auto* head = dynamic_cast<Head*>(model.head());
  if (head == nullptr) throw_missing_head(what, kind, type);
  return *head;
}

// Idempotent: registers caption, vqa and action.
void register_builtin_heads();

// The head `config.type` sized for `model`. Throws ConfigError naming model.head.type for an
// unknown type (listing the registered ones) and for a model whose fusion cannot give what the
// head's descriptor needs.
std::shared_ptr<TaskHeadImpl> build_head(const HeadConfig& config, MultimodalModelImpl& model, int embed_dim,
                                         const TextVocab& vocab);

}  // namespace mmtrain
