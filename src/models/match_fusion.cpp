#include "mmtrain/models/match_fusion.h"

#include <limits>

#include <ATen/Dispatch.h>

#include "mmtrain/ops/full_precision.h"
#include "mmtrain/ops/linear.h"

namespace mmtrain {

torch::Tensor padding_of(const Encoded& encoded) {
  if (encoded.pad_mask.defined()) return encoded.pad_mask.to(torch::kBool);
  const auto& tokens = encoded.tokens;
  return torch::zeros({tokens.size(0), tokens.size(1)}, tokens.options().dtype(torch::kBool));
}

torch::Tensor key_padding_bias(const torch::Tensor& pad_mask, torch::ScalarType dtype) {
  double lowest = 0.0;
  AT_DISPATCH_FLOATING_TYPES_AND2(torch::kHalf, torch::kBFloat16, dtype, "key_padding_bias", [&] {
    lowest = static_cast<double>(std::numeric_limits<scalar_t>::lowest());
  });
  auto bias = torch::zeros(pad_mask.sizes(), pad_mask.options().dtype(dtype))
                  .masked_fill(pad_mask, lowest);  // [B,T]
  return bias.unsqueeze(1).unsqueeze(1);  // [B,1,1,T]
}

MatchFusionImpl::MatchFusionImpl(const MatchFusionOptions& options) : width_(options.width()) {
  const auto& dims = options.dims();
  dual_ = register_module("dual", std::make_shared<LateFusionImpl>(dims));
  image_input_ = register_module("image_input", torch::nn::Linear(dims.image_width(), options.width()));
  text_input_ = register_module("text_input", torch::nn::Linear(dims.text_width(), options.width()));
  ln_final_ = register_module("ln_final",
                              torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.width()})));
  match_head_ = register_module("match_head", torch::nn::Linear(options.width(), 1));
}

MatchFusionImpl::Projected MatchFusionImpl::project_tokens(const Encoded& image,
                                                           const Encoded& text) {
  TORCH_CHECK(image.tokens.size(0) == text.tokens.size(0),
              "match pairs image i with text i: batch sizes ", image.tokens.size(0), " and ",
              text.tokens.size(0), " differ");
  return {linear(image_input_, image.tokens), linear(text_input_, text.tokens)};
}

torch::Tensor MatchFusionImpl::match(const Encoded& image, const Encoded& text) {
  const auto joint = fused(image, text);  // [B,W] float32
  FullPrecisionScope fp32;
  return linear(match_head_, joint).squeeze(-1);  // [B]
}

torch::Tensor MatchFusionImpl::fused(const Encoded& image, const Encoded& text) {
  const auto pooled = summary(image, text);  // [B,W]
  FullPrecisionScope fp32;
  return layer_norm_fp32(ln_final_, pooled);  // [B,W] float32
}

}  // namespace mmtrain
