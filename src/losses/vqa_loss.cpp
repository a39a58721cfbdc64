#include "mmtrain/losses/vqa_loss.h"

#include <torch/nn/functional/loss.h>

#include "mmtrain/heads/vqa_head.h"
#include "mmtrain/losses/loss_term.h"
#include "mmtrain/losses/pointing_loss.h"

namespace mmtrain {

namespace {

// logits [B,A] -> [B,A] with A padded from targets' K by zeros (outputs outside the vocabulary).
torch::Tensor padded_targets(const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(logits.dim() == 2 && targets.dim() == 2 && logits.size(0) == targets.size(0) &&
                  targets.size(1) <= logits.size(1),
              "vqa loss: logits ", logits.sizes(), " cannot score answer targets ", targets.sizes());
  const auto t = targets.to(logits.dtype());
  if (t.size(1) == logits.size(1)) return t;
  return torch::constant_pad_nd(t, {0, logits.size(1) - t.size(1)});
}

}  // namespace

torch::Tensor vqa_bce_loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  namespace F = torch::nn::functional;
  const auto t = padded_targets(logits, targets);
  const auto per_answer = F::binary_cross_entropy_with_logits(
      logits, t, F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));  // [B,A]
  return per_answer.sum(1).mean();
}

torch::Tensor vqa_ce_loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  const auto t = padded_targets(logits, targets);
  const auto mass = t.sum(1, /*keepdim=*/true);                          // [B,1]
  const auto distribution = t / mass.clamp_min(1e-12);                   // rows without answers stay 0
  return -(distribution * torch::log_softmax(logits, 1)).sum(1).mean();  // [B] -> []
}

namespace {

template <torch::Tensor (*Loss)(const torch::Tensor&, const torch::Tensor&)>
torch::Tensor vqa_term(const LossTermInputs& in) {
  auto& head = vqa_head_of(in.model, "loss.terms.vqa");
  TORCH_CHECK(in.output.task.answers.defined(),
              "loss.terms.vqa: the batch has no answers (data.train.type vqa or vqa_v2 gives them)");
  return Loss(head.forward(in.output), in.output.task.answers);
}

torch::Tensor point_term(const LossTermInputs& in) {
  auto& head = vqa_head_of(in.model, "loss.terms.vqa_point");
  TORCH_CHECK(in.output.task.target.defined(),
              "loss.terms.vqa_point: the batch has no targets (data.train.type vqa gives them)");
  return pointing_loss(head.pointing_logits(in.output), in.output.task.target);
}

void register_term(const std::string& name, LossTermFunction compute) {
  LossTermDescriptor descriptor;
  descriptor.head = "vqa";
  descriptor.mean_over_rows = true;
  descriptor.runs_on_several_processes = true;
  loss_term_registry().add(name, {descriptor, std::move(compute)});
}

}  // namespace

void register_vqa_terms() {
  register_term("vqa", vqa_term<vqa_bce_loss>);
  register_term("vqa_ce", vqa_term<vqa_ce_loss>);
  register_term("vqa_point", point_term);
}

}  // namespace mmtrain
