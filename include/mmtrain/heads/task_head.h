// Task heads chosen by name (a captioning decoder, a VQA answer head, an action head): modules that
// read the model's outputs for a task beyond contrastive alignment. None is built in yet; the first
// one registers itself from a register_builtin_heads() that register_builtins() calls, as the
// towers, fusions and loss terms do.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "mmtrain/models/multimodal_model.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/registry.h"

namespace mmtrain {

struct HeadDescriptor {
  // What the head reads of the model beyond the contrastive embeddings: the towers' token outputs
  // (a decoder attending to image patches, a VQA head reading the question's tokens) or the
  // fusion's match head over aligned pairs (what a fused type gives today). build_head refuses a
  // model whose fusion cannot give it.
  ModelNeeds needs;
};

class TaskHeadImpl : public torch::nn::Module {
 public:
  // The model's outputs for a batch -> the head's prediction (its shape is the task's).
  virtual torch::Tensor forward(const ModelOutput& output) = 0;
};

// Widths of what the head reads: the towers' D and the embedding space's E.
using HeadFactory = std::function<std::shared_ptr<TaskHeadImpl>(const FusionDims&)>;

struct HeadEntry {
  HeadDescriptor descriptor;
  HeadFactory factory;
};

Registry<HeadEntry>& head_registry();

// The head registered as `type`, sized for `model` (whose embeddings are `embed_dim` wide). Throws
// ConfigError naming `key` for an unknown type (listing the registered ones) and for a model
// whose fusion cannot give what the head's descriptor needs.
std::shared_ptr<TaskHeadImpl> build_head(const std::string& type, MultimodalModelImpl& model, int embed_dim,
                                         const std::string& key);

}  // namespace mmtrain
