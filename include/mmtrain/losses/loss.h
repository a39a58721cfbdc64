// The training objective: the terms named in `loss.terms` (clip, siglip, itm), each reported on its
// own for metrics.jsonl, combined with fixed weights or learned uncertainty weights.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

// Learned scalars that belong to the objective rather than to a tower: SigLIP's log-scale and
// bias, and one log-variance per term for uncertainty weighting. Attached to the model as its
// "loss" submodule, so they are optimised and checkpointed with it.
class LossParametersImpl : public torch::nn::Module {
 public:
  explicit LossParametersImpl(const LossConfig& config);
  torch::Tensor siglip_log_scale;  // [] defined when siglip is a term
  torch::Tensor siglip_bias;       // []
  torch::Tensor log_vars;          // [K] defined when loss.balance is uncertainty
};

// Whether `config` needs LossParametersImpl (a siglip term or uncertainty balance).
bool needs_loss_parameters(const LossConfig& config);
// Attaches the objective's parameters to the model when the config needs them.
void attach_loss_parameters(MultimodalModelImpl& model, const LossConfig& config);

struct LossResult {
  torch::Tensor total;                                      // [] weighted sum
  std::vector<std::pair<std::string, torch::Tensor>> terms;  // unweighted, in config order
};

// The whole batch's contrastive embeddings when it is spread over ranks (all_gather_with_grad):
// this rank's rows of `output` are rows offset..offset+b of these.
struct GlobalEmbeddings {
  torch::Tensor image_embeds;  // [B,E]
  torch::Tensor text_embeds;   // [B,E]
  int64_t offset = 0;
};

// Throws ConfigError for a term the model cannot provide (itm without a match head). With
// `global`, the clip term is this rank's local loss against every rank's columns (open_clip's
// local_loss with gather_with_grad); the other terms need the whole batch on one process.
LossResult compute_loss(const LossConfig& config, const ModelOutput& output, MultimodalModelImpl& model,
                        const GlobalEmbeddings* global = nullptr);

// The terms that only need the contrastive embeddings (and so work with cached micro-batches).
bool is_embedding_only(const LossConfig& config);

}  // namespace mmtrain
