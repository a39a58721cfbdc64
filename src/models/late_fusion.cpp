#include "mmtrain/models/late_fusion.h"

#include <cmath>

#include "mmtrain/ops/full_precision.h"

namespace mmtrain {

namespace {
const double kMaxLogScale = std::log(100.0);
}

LateFusionImpl::LateFusionImpl(const FusionDims& dims) {
  // FusionDims are set by name, so one forgotten is a 0 here, not a model with empty projections.
  TORCH_CHECK(dims.image_width() > 0 && dims.text_width() > 0 && dims.embed_dim() > 0,
              "fusion: image_width, text_width and embed_dim must all be positive, found ", dims.image_width(),
              ", ", dims.text_width(), ", ", dims.embed_dim());
  image_projection_ = register_parameter(
      "image_projection", std::pow(dims.image_width(), -0.5) * torch::randn({dims.image_width(), dims.embed_dim()}));
  text_projection_ = register_parameter(
      "text_projection", std::pow(dims.text_width(), -0.5) * torch::randn({dims.text_width(), dims.embed_dim()}));
  log_logit_scale_ = register_parameter("logit_scale", torch::full({}, std::log(1.0 / 0.07)));
}

torch::Tensor LateFusionImpl::embed_image(const Encoded& image) {
  FullPrecisionScope fp32;
  auto x = torch::matmul(image.pooled.to(torch::kFloat), image_projection_);  // [B,E]
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

torch::Tensor LateFusionImpl::embed_text(const Encoded& text) {
  FullPrecisionScope fp32;
  auto x = torch::matmul(text.pooled.to(torch::kFloat), text_projection_);  // [B,E]
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

torch::Tensor LateFusionImpl::logit_scale() { return log_logit_scale_.exp(); }

void LateFusionImpl::clamp_parameters() {
  torch::NoGradGuard no_grad;
  log_logit_scale_.clamp_(0.0, kMaxLogScale);
}

}  // namespace mmtrain
