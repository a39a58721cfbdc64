#include "mmtrain/losses/loss.h"

#include "mmtrain/errors.h"
#include "mmtrain/losses/clip_loss.h"
#include "mmtrain/models/full_precision.h"

namespace mmtrain {

namespace {

torch::Tensor compute_term(const std::string& name, const ModelOutput& out) {
  if (name == "clip") {
    FullPrecisionScope fp32;
    auto logits = out.logit_scale * torch::matmul(out.image_embeds, out.text_embeds.t());  // [B,B]
    return clip_loss(logits, logits.t());
  }
  throw ConfigError("loss.terms." + name + ": not available for this model yet (available: clip)");
}

}  // namespace

LossResult compute_loss(const LossConfig& config, const ModelOutput& output) {
  LossResult result;
  for (const auto& term : config.terms) {
    auto value = compute_term(term.name, output);
    result.total = result.total.defined() ? result.total + term.weight * value : term.weight * value;
    result.terms.emplace_back(term.name, value);
  }
  return result;
}

}  // namespace mmtrain
