#include "mmtrain/losses/loss.h"

#include <cmath>

#include "mmtrain/errors.h"
#include "mmtrain/losses/clip_loss.h"
#include "mmtrain/losses/itm_loss.h"
#include "mmtrain/losses/siglip_loss.h"
#include "mmtrain/losses/uncertainty_weighting.h"
#include "mmtrain/ops/full_precision.h"

namespace mmtrain {

namespace {

bool has_term(const LossConfig& config, const std::string& name) {
  for (const auto& term : config.terms) {
    if (term.name == name) return true;
  }
  return false;
}

LossParametersImpl& loss_parameters(MultimodalModelImpl& model) {
  auto* params = model.named_children().find("loss");
  TORCH_CHECK(params != nullptr, "the model has no loss parameters attached (attach_loss_parameters)");
  return *(*params)->as<LossParametersImpl>();
}

// Rows `index` of an encoding: the pairs a hard negative is made of.
Encoded select_rows(const Encoded& encoded, const torch::Tensor& index) {
  Encoded rows;
  rows.tokens = encoded.tokens.index_select(0, index);
  rows.pooled = encoded.pooled.index_select(0, index);
  if (encoded.pad_mask.defined()) rows.pad_mask = encoded.pad_mask.index_select(0, index);
  return rows;
}

// Image-text matching on the fused pairs: every aligned pair is a positive; each image gets its
// hardest-looking wrong caption and each caption its hardest-looking wrong image, drawn from the
// contrastive similarities.
torch::Tensor itm_term(const ModelOutput& out, MultimodalModelImpl& model) {
  auto& fusion = model.fusion();
  if (!fusion.has_match()) {
    throw ConfigError("loss.terms.itm: this fusion has no match head (use model.fusion.type early or cross_attention)");
  }
  torch::Tensor similarity;
  {
    torch::NoGradGuard no_grad;
    similarity = torch::matmul(out.image_embeds, out.text_embeds.t());  // [B,B]
  }
  const HardNegatives negatives = mine_hard_negatives(similarity);
  auto positive = fusion.match(out.image, out.text);                                    // [B]
  auto wrong_text = fusion.match(out.image, select_rows(out.text, negatives.text_for_image));  // [B]
  auto wrong_image = fusion.match(select_rows(out.image, negatives.image_for_text), out.text);  // [B]
  return itm_loss(positive, torch::cat({wrong_text, wrong_image}));
}

torch::Tensor compute_term(const std::string& name, const ModelOutput& out, MultimodalModelImpl& model,
                           const GlobalEmbeddings* global) {
  if (global && name != "clip") {
    throw ConfigError("loss.terms." + name + ": training on several processes supports the clip term only");
  }
  if (name == "itm") return itm_term(out, model);
  FullPrecisionScope fp32;
  if (name == "clip" && global) {
    auto per_image = out.logit_scale * torch::matmul(out.image_embeds, global->text_embeds.t());  // [b,B]
    auto per_text = out.logit_scale * torch::matmul(out.text_embeds, global->image_embeds.t());   // [b,B]
    return clip_loss(per_image, per_text, global->offset);
  }
  if (name == "clip") {
    auto logits = out.logit_scale * torch::matmul(out.image_embeds, out.text_embeds.t());  // [B,B]
    return clip_loss(logits, logits.t());
  }
  if (name == "siglip") {
    auto& params = loss_parameters(model);
    return siglip_loss(out.image_embeds, out.text_embeds, params.siglip_log_scale, params.siglip_bias);
  }
  throw ConfigError("loss.terms." + name + ": unknown term (valid: clip, siglip, itm)");
}

}  // namespace

LossParametersImpl::LossParametersImpl(const LossConfig& config) {
  if (has_term(config, "siglip")) {
    siglip_log_scale = register_parameter("siglip_log_scale", torch::full({}, kSiglipInitLogScale));
    siglip_bias = register_parameter("siglip_bias", torch::full({}, kSiglipInitBias));
  }
  if (config.balance == "uncertainty") {
    log_vars = register_parameter("log_vars", torch::zeros({static_cast<int64_t>(config.terms.size())}));
  }
}

bool needs_loss_parameters(const LossConfig& config) {
  return has_term(config, "siglip") || config.balance == "uncertainty";
}

void attach_loss_parameters(MultimodalModelImpl& model, const LossConfig& config) {
  if (needs_loss_parameters(config)) model.register_module("loss", std::make_shared<LossParametersImpl>(config));
}

bool is_embedding_only(const LossConfig& config) { return !has_term(config, "itm"); }

LossResult compute_loss(const LossConfig& config, const ModelOutput& output, MultimodalModelImpl& model,
                        const GlobalEmbeddings* global) {
  LossResult result;
  std::vector<torch::Tensor> weighted;
  for (const auto& term : config.terms) {
    auto value = compute_term(term.name, output, model, global);
    weighted.push_back(term.weight * value);
    result.terms.emplace_back(term.name, value);
  }
  if (config.balance == "uncertainty") {
    result.total = uncertainty_weighted_sum(weighted, loss_parameters(model).log_vars);
  } else {
    result.total = weighted.front();
    for (size_t k = 1; k < weighted.size(); ++k) result.total = result.total + weighted[k];
  }
  return result;
}

}  // namespace mmtrain
