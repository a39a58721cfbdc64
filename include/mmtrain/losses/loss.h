// The training objective: the terms named in `loss.terms` (losses/loss_term.h), each reported on its
// own for metrics.jsonl, combined with fixed weights or learned uncertainty weights; and the
// refusals of configs a term cannot serve, read from the terms' descriptors.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/losses/loss_term.h"
#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

// Learned scalars that belong to the objective rather than to a tower: the terms' learned_scalars
// (siglip's log-scale and bias) under their own names, and one log-variance per term for
// uncertainty weighting. Attached to the model as its "loss" submodule, so they are optimised and
// checkpointed with it.
class LossParametersImpl : public torch::nn::Module {
 public:
  explicit LossParametersImpl(const LossConfig& config);
  torch::Tensor log_vars;  // [K] defined when loss.balance is uncertainty
};

// Whether `config` needs LossParametersImpl (a term with learned scalars, or uncertainty balance).
bool needs_loss_parameters(const LossConfig& config);
// Attaches the objective's parameters to the model when the config needs them.
void attach_loss_parameters(MultimodalModelImpl& model, const LossConfig& config);
// The attached parameters (TORCH_CHECK that there are some).
LossParametersImpl& loss_parameters(MultimodalModelImpl& model);

struct LossResult {
  torch::Tensor total;                                      // [] weighted sum
  std::vector<std::pair<std::string, torch::Tensor>> terms;  // unweighted, in config order
};

// Throws ConfigError for a term the model cannot serve (check_loss_fits_model) or, with `global`,
// one that cannot train on several processes. With `global`, each term computes this rank's share
// against every rank's columns (clip: open_clip's local_loss with gather_with_grad).
LossResult compute_loss(const LossConfig& config, const ModelOutput& output, MultimodalModelImpl& model,
                        const GlobalEmbeddings* global = nullptr);

// Each throws ConfigError naming the key, the reason the descriptor gives and what would be
// accepted instead.
// A term needs what the model's fusion does not give (itm without a match head).
void check_loss_fits_model(const LossConfig& config, MultimodalModelImpl& model);
// A term or balance whose gradient summed over cached micro-batches (train.accum_steps > 1) would
// not be the whole batch's.
void check_loss_accumulates(const LossConfig& config);
// The objective of one of `micro_batches` cached micro-batches: terms that are means over their
// rows (mean_over_rows) weighted 1/micro_batches, so that the summed gradients are the mean's.
LossConfig per_micro_batch(const LossConfig& config, int micro_batches);
// The whole batch's loss from its micro-batches' results (fixed weights; computed with
// per_micro_batch): contrastive terms are already the whole batch's in each, mean_over_rows terms
// are averaged. For reporting: the values carry no gradient.
LossResult combine_micro_batches(const LossConfig& config, const std::vector<LossResult>& parts);
// A term that cannot compute its share against gathered embeddings.
void check_loss_runs_on_several_processes(const LossConfig& config);

}  // namespace mmtrain
