// Offline metrics of an action head on held-out episode steps (eval.actions): how far the predicted
// next action is from the one taken, and how often it falls in the same bin.
#pragma once

#include "mmtrain/eval/embed.h"
#include "mmtrain/eval/evaluate.h"

namespace mmtrain {

// "actions/l1": the mean absolute error of the first predicted action, in the data's units, over
// every dimension; "actions/bin_accuracy": the share of dimensions whose prediction lands in the
// target's bin (the head's bins, or 256 for a continuous head, as OpenVLA counts); both also per
// task as "actions/l1/<task>". Throws ConfigError without an action head or action space.
Metrics evaluate_actions(EmbedContext& context, const ActionEvalConfig& config);

}  // namespace mmtrain
