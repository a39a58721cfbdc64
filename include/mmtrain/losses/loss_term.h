// Loss terms chosen by name in `loss.terms`: each built-in term (clip, siglip, itm) registers its
// function with a descriptor of what it needs, in its own file. Config validation, compute_loss
// and the trainer's refusals read the descriptors; no other code names a term.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/models/multimodal_model.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/registry.h"

namespace mmtrain {

// A scalar a term learns, created on the model's "loss" submodule under `name` (so it is optimised
// and checkpointed as loss.<name>), starting at `initial`.
struct LearnedScalar {
  std::string name;
  double initial = 0.0;
};

struct LossTermDescriptor {
  // What the term reads of the model beyond the contrastive embeddings (itm: the match head and
  // the token outputs it scores). Refused on a model whose fusion cannot give it.
  ModelNeeds needs;
  // The term computes this rank's share against every rank's embeddings (LossTermInputs::global),
  // so it can train on several processes.
  bool runs_on_several_processes = false;
  // siglip's scale and bias.
  std::vector<LearnedScalar> learned_scalars;
  // The task head the term reads (model.head.type), "" for none: caption reads the decoder.
  std::string head;
  // The term is a mean over the batch's rows, each row reading only itself (caption's token
  // cross-entropy): summed over cached micro-batches with weight 1/micro-batches, it is the mean of
  // the micro-batches' means.
  bool mean_over_rows = false;

  // "" when the term summed over cached micro-batches (train.accum_steps > 1) has the whole batch's
  // gradient; else why not. Cached micro-batches keep the embeddings alone, and every micro-batch's
  // backward would add the whole gradient of a learned scalar.
  std::string why_not_accumulable() const;
};

// The whole batch's contrastive embeddings when it is spread over ranks (all_gather_with_grad):
// this rank's rows of `output` are rows offset..offset+b of these.
struct GlobalEmbeddings {
  torch::Tensor image_embeds;  // [B,E]
  torch::Tensor text_embeds;   // [B,E]
  int64_t offset = 0;
};

struct LossTermInputs {
  const ModelOutput& output;
  MultimodalModelImpl& model;
  const GlobalEmbeddings* global;  // null when the batch is all on this process
  const LossConfig& config;

  // One of the term's learned_scalars as attached to the model (attach_loss_parameters).
  torch::Tensor learned(const std::string& name) const;
};

// -> [] the unweighted term.
using LossTermFunction = std::function<torch::Tensor(const LossTermInputs&)>;

struct LossTermEntry {
  LossTermDescriptor descriptor;
  LossTermFunction compute;
};

Registry<LossTermEntry>& loss_term_registry();

// Idempotent: registers clip, siglip, itm, caption, vqa, vqa_ce, action_l1, action_ce and
// action_point.
void register_builtin_loss_terms();

}  // namespace mmtrain
