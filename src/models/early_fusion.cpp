#include "mmtrain/models/early_fusion.h"

#include <cmath>

namespace mmtrain {

namespace {
constexpr int64_t kTextType = 0;
constexpr int64_t kImageType = 1;
}  // namespace

EarlyFusionImpl::EarlyFusionImpl(const MatchFusionOptions& options) : MatchFusionImpl(options) {
  // CLIP's scale for its class embedding; the blocks normalise before attending, so the scale only
  // sets how much these start with in the residual stream.
  const double scale = std::pow(options.width(), -0.5);
  cls_token_ = register_parameter("cls_token", scale * torch::randn({options.width()}));
  type_embedding_ = register_parameter("type_embedding", scale * torch::randn({2, options.width()}));
  transformer_ = register_module(
      "transformer", Transformer(transformer_options_of(options)));
}

torch::Tensor EarlyFusionImpl::summary(const Encoded& image, const Encoded& text) {
  auto projected = project_tokens(image, text);
  auto text_tokens = projected.text + type_embedding_[kTextType];     // [B,Tt,W]
  auto image_tokens = projected.image + type_embedding_[kImageType];  // [B,Ti,W]
  const int64_t batch = text_tokens.size(0);
  auto cls = cls_token_.expand({batch, 1, -1});                      // [B,1,W]
  auto x = torch::cat({cls, text_tokens, image_tokens}, 1);           // [B,1+Tt+Ti,W]

  // Only text padding is masked; the summary token and image tokens are always keys, so no row
  // of the mask is all padding.
  auto cls_padding = torch::zeros({batch, 1}, text_tokens.options().dtype(torch::kBool));
  auto padding = torch::cat({cls_padding, padding_of(text), padding_of(image)}, 1);  // [B,1+Tt+Ti]
  x = transformer_(x, key_padding_bias(padding, x.scalar_type()));
  return x.select(1, 0);  // [B,W]
}

}  // namespace mmtrain
