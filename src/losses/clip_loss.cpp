#include "mmtrain/losses/clip_loss.h"

#include "mmtrain/losses/loss_term.h"
#include "mmtrain/ops/full_precision.h"

namespace mmtrain {

torch::Tensor clip_loss(const torch::Tensor& logits_per_image, const torch::Tensor& logits_per_text,
                        int64_t offset) {
  const int64_t rows = logits_per_image.size(0);
  auto labels = torch::arange(offset, offset + rows,
                              torch::TensorOptions().dtype(torch::kLong).device(logits_per_image.device()));
  namespace F = torch::nn::functional;
  return 0.5 * (F::cross_entropy(logits_per_image.to(torch::kFloat), labels) +
                F::cross_entropy(logits_per_text.to(torch::kFloat), labels));
}

namespace {

torch::Tensor clip_term(const LossTermInputs& in) {
  FullPrecisionScope fp32;
  const ModelOutput& out = in.output;
  if (in.global) {
    auto per_image = out.logit_scale * torch::matmul(out.image_embeds, in.global->text_embeds.t());  // [b,B]
    auto per_text = out.logit_scale * torch::matmul(out.text_embeds, in.global->image_embeds.t());   // [b,B]
    return clip_loss(per_image, per_text, in.global->offset);
  }
  auto logits = out.logit_scale * torch::matmul(out.image_embeds, out.text_embeds.t());  // [B,B]
  return clip_loss(logits, logits.t());
}

}  // namespace

void register_clip_term() {
  LossTermDescriptor descriptor;
  descriptor.runs_on_several_processes = true;
  loss_term_registry().add("clip", {descriptor, clip_term});
}

}  // namespace mmtrain
