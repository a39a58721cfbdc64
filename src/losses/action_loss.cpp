#include "mmtrain/losses/action_loss.h"

#include <torch/nn/functional/loss.h>

#include "mmtrain/errors.h"
#include "mmtrain/heads/action_head.h"
#include "mmtrain/losses/loss_term.h"
#include "mmtrain/losses/pointing_loss.h"

namespace mmtrain {

torch::Tensor action_l1_loss(const torch::Tensor& predicted, const torch::Tensor& targets) {
  TORCH_CHECK(predicted.sizes() == targets.sizes(), "action_l1: predictions ", predicted.sizes(),
              " against targets ", targets.sizes());
  return (predicted - targets.to(predicted.dtype())).abs().mean();
}

torch::Tensor action_bins(const torch::Tensor& targets, int64_t bins) {
  // floor((x + 1) / 2 * N), the top edge in the last bin.
  return ((targets.to(torch::kFloat).clamp(-1.0, 1.0) + 1.0) * 0.5 * static_cast<double>(bins))
      .floor()
      .clamp(0, static_cast<double>(bins - 1))
      .to(torch::kLong);
}

torch::Tensor action_ce_loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(logits.dim() == 4 && logits.sizes().slice(0, 3) == targets.sizes(), "action_ce: logits ",
              logits.sizes(), " against targets ", targets.sizes());
  const int64_t bins = logits.size(3);
  return torch::nn::functional::cross_entropy(logits.reshape({-1, bins}), action_bins(targets, bins).reshape({-1}));
}

namespace {

torch::Tensor point_term(const LossTermInputs& in) {
  auto& head = action_head_of(in.model, "loss.terms.action_point");
  TORCH_CHECK(in.output.task.target.defined(),
              "loss.terms.action_point: the batch has no targets (data.train.type episodes gives them)");
  return pointing_loss(head.pointing_logits(in.output), in.output.task.target);
}

torch::Tensor action_term(const LossTermInputs& in, bool discrete, const char* name) {
  auto& head = action_head_of(in.model, std::string("loss.terms.") + name);
  if ((head.bins() > 0) != discrete) {
    throw ConfigError(std::string("loss.terms.") + name + ": needs " +
                      (discrete ? "a discrete action head (model.head.bins > 0); use action_l1"
                                : "a continuous action head (model.head.bins 0); use action_ce"));
  }
  TORCH_CHECK(in.output.task.actions.defined(),
              "loss.terms.", name, ": the batch has no actions (data.train.type episodes gives them)");
  const auto y = head.forward(in.output);
  return discrete ? action_ce_loss(y, in.output.task.actions) : action_l1_loss(y, in.output.task.actions);
}

LossTermDescriptor action_descriptor() {
  LossTermDescriptor descriptor;
  descriptor.head = "action";
  descriptor.mean_over_rows = true;
  descriptor.runs_on_several_processes = true;
  return descriptor;
}

void register_term(const std::string& name, bool discrete) {
  const std::string term = name;
  loss_term_registry().add(name, {action_descriptor(), [discrete, term](const LossTermInputs& in) {
                                     return action_term(in, discrete, term.c_str());
                                   }});
}

}  // namespace

void register_action_terms() {
  register_term("action_l1", false);
  register_term("action_ce", true);
  loss_term_registry().add("action_point", {action_descriptor(), point_term});
}

}  // namespace mmtrain
