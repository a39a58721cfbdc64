#include "mmtrain/heads/caption_decoder.h"

#include <cmath>

#include "mmtrain/errors.h"
#include "mmtrain/ops/full_precision.h"
#include "mmtrain/ops/layer_norm.h"
#include "mmtrain/ops/residual.h"

namespace mmtrain {

namespace {

torch::nn::LayerNorm layer_norm(int width) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}));
}

}  // namespace

DecoderCrossBlockImpl::DecoderCrossBlockImpl(const TransformerOptions& options) {
  const auto hidden = static_cast<int>(std::lround(options.width() * options.mlp_ratio()));
  ln_1_ = register_module("ln_1", layer_norm(options.width()));
  ln_1_kv_ = register_module("ln_1_kv", layer_norm(options.width()));
  attn_ = register_module("attn", CrossAttention(options.width(), options.heads()));
  ln_2_ = register_module("ln_2", layer_norm(options.width()));
  mlp_ = register_module("mlp", Mlp(options.width(), hidden, options.act()));
}

void DecoderCrossBlockImpl::reset_parameters(double attn_std, double proj_std, double fc_std) {
  attn_->reset_parameters(attn_std, proj_std);
  mlp_->reset_parameters(fc_std, proj_std);
}

torch::Tensor DecoderCrossBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& image) {
  auto h = add_residual(x, attn_(layer_norm_for_linear(ln_1_, x), layer_norm_for_linear(ln_1_kv_, image)));
  return add_residual(h, mlp_(layer_norm_for_linear(ln_2_, h)));
}

CaptionDecoderImpl::CaptionDecoderImpl(const HeadConfig& config, const HeadDims& dims) {
  const int width = dims.text_width;
  TORCH_CHECK(width % config.heads == 0, "caption decoder: model.head.heads ", config.heads,
              " does not divide the text width ", width);
  const auto block = TransformerOptions(width).layers(config.layers).heads(config.heads).mlp_ratio(config.mlp_ratio);
  if (dims.image_width != width) image_proj_ = register_module("image_proj", torch::nn::Linear(dims.image_width, width));
  resblocks_ = register_module("resblocks", torch::nn::ModuleList());
  cross_attn_ = register_module("cross_attn", torch::nn::ModuleList());
  const BlockInitStd init = clip_block_init_std(width, config.layers);
  for (int i = 0; i < config.layers; ++i) {
    ResidualBlock self(block);
    self->reset_parameters(init.attn, init.proj, init.fc);
    resblocks_->push_back(self);
    DecoderCrossBlock cross(block);
    cross->reset_parameters(init.attn, init.proj, init.fc);
    cross_attn_->push_back(cross);
  }
  ln_final_ = register_module("ln_final", layer_norm(width));
  text_projection_ = register_parameter("text_projection",
                                        torch::randn({width, dims.vocab.vocab_size}) * std::pow(width, -0.5));
}

torch::Tensor CaptionDecoderImpl::image_context(const torch::Tensor& image_tokens) {
  return image_proj_ ? image_proj_(image_tokens) : image_tokens;
}

torch::Tensor CaptionDecoderImpl::decode(const torch::Tensor& text_tokens, const torch::Tensor& context) {
  const auto mask = causal_mask(text_tokens.size(1), text_tokens);  // [L,L]
  auto x = text_tokens;
  for (size_t i = 0; i < resblocks_->size(); ++i) {
    x = resblocks_[i]->as<ResidualBlockImpl>()->forward(x, mask);
    x = cross_attn_[i]->as<DecoderCrossBlockImpl>()->forward(x, context);
  }
  x = layer_norm_fp32(ln_final_, x);
  return torch::matmul(x, text_projection_.to(x.scalar_type()));  // [B,L,V]
}

torch::Tensor CaptionDecoderImpl::logits(const torch::Tensor& image_tokens, const torch::Tensor& text_tokens) {
  return decode(text_tokens, image_context(image_tokens));
}

torch::Tensor CaptionDecoderImpl::forward(const ModelOutput& output) {
  TORCH_CHECK(output.image.tokens.defined() && output.text.tokens.defined(),
              "caption decoder: the model gave no token outputs");
  return logits(output.image.tokens, output.text.tokens);
}

CaptionDecoderImpl& caption_decoder_of(MultimodalModelImpl& model, const std::string& what) {
  return head_of<CaptionDecoderImpl>(model, what, "a caption decoder", "caption");
}

void register_caption_head() {
  HeadDescriptor descriptor;
  descriptor.needs.vision_tokens = true;
  descriptor.needs.text_tokens = true;
  register_head<CaptionDecoderImpl>("caption", descriptor);
}

}  // namespace mmtrain
