// The training objective: the weighted sum of the loss terms named in `loss.terms`, each one also
// reported on its own for metrics.jsonl.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

struct LossResult {
  torch::Tensor total;                                      // [] weighted sum
  std::vector<std::pair<std::string, torch::Tensor>> terms;  // unweighted, in config order
};

// Throws ConfigError for a term the model cannot provide.
LossResult compute_loss(const LossConfig& config, const ModelOutput& output);

}  // namespace mmtrain
