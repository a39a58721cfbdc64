#include "mmtrain/models/cross_attention_fusion.h"

#include <cmath>

#include "mmtrain/ops/attention.h"
#include "mmtrain/ops/layer_norm.h"
#include "mmtrain/ops/linear.h"
#include "mmtrain/ops/residual.h"

namespace mmtrain {

namespace {

// The last position that is not padding, per row: padding follows the end-of-text token. -> [B]
torch::Tensor end_of_text_index(const Encoded& text) {
  return (~padding_of(text)).sum(1) - 1;
}

}  // namespace

CrossAttentionImpl::CrossAttentionImpl(int width, int heads, int context_width) : heads_(heads) {
  TORCH_CHECK(width % heads == 0, "attention width ", width, " not divisible by heads ", heads);
  q_proj_ = register_module("q_proj", torch::nn::Linear(width, width));
  kv_proj_ = register_module("kv_proj", torch::nn::Linear(context_width > 0 ? context_width : width, 2 * width));
  out_proj_ = register_module("out_proj", torch::nn::Linear(width, width));
  reset_parameters(std::pow(width, -0.5), std::pow(width, -0.5));
}

void CrossAttentionImpl::reset_parameters(double in_std, double out_std) {
  torch::NoGradGuard no_grad;
  for (auto* linear : {&q_proj_, &kv_proj_}) {
    (*linear)->weight.normal_(0.0, in_std);
    (*linear)->bias.zero_();
  }
  out_proj_->weight.normal_(0.0, out_std);
  out_proj_->bias.zero_();
}

torch::Tensor CrossAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& context,
                                          const torch::Tensor& attn_mask) {
  return linear(out_proj_, cross_attention(linear(q_proj_, x), linear(kv_proj_, context), attn_mask, heads_));
}

CrossAttentionBlockImpl::CrossAttentionBlockImpl(const TransformerOptions& options) {
  const auto hidden = static_cast<int>(std::lround(options.width() * options.mlp_ratio()));
  auto layer_norm = [&] {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.width()}));
  };
  ln_1_ = register_module("ln_1", layer_norm());
  attn_ = register_module("attn", SelfAttention(options.width(), options.heads()));
  ln_cross_ = register_module("ln_cross", layer_norm());
  cross_attn_ = register_module("cross_attn", CrossAttention(options.width(), options.heads()));
  ln_2_ = register_module("ln_2", layer_norm());
  mlp_ = register_module("mlp", Mlp(options.width(), hidden, options.act()));
}

void CrossAttentionBlockImpl::reset_parameters(double attn_std, double proj_std, double fc_std) {
  attn_->reset_parameters(attn_std, proj_std);
  cross_attn_->reset_parameters(attn_std, proj_std);
  mlp_->reset_parameters(fc_std, proj_std);
}

torch::Tensor CrossAttentionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& image,
                                               const torch::Tensor& text_bias,
                                               const torch::Tensor& image_bias) {
  // Image tokens are not normalised again: they left the tower's final norm and one projection.
  auto h = add_residual(x, attn_(layer_norm_for_linear(ln_1_, x), text_bias));
  h = add_residual(h, cross_attn_(layer_norm_for_linear(ln_cross_, h), image, image_bias));
  return add_residual(h, mlp_(layer_norm_for_linear(ln_2_, h)));
}

CrossAttentionFusionImpl::CrossAttentionFusionImpl(const MatchFusionOptions& options)
    : MatchFusionImpl(options) {
  const TransformerOptions block = transformer_options_of(options);
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  const BlockInitStd init = clip_block_init_std(options.width(), options.layers());
  for (int i = 0; i < options.layers(); ++i) {
    CrossAttentionBlock layer(block);
    layer->reset_parameters(init.attn, init.proj, init.fc);
    blocks_->push_back(layer);
  }
}

torch::Tensor CrossAttentionFusionImpl::summary(const Encoded& image, const Encoded& text) {
  auto projected = project_tokens(image, text);
  auto x = projected.text;  // [B,Tt,W]
  const auto text_bias = key_padding_bias(padding_of(text), x.scalar_type());
  // Images have no padding today; a tower that pads its tokens gets them masked too.
  const auto image_bias = image.pad_mask.defined()
                              ? key_padding_bias(padding_of(image), x.scalar_type())
                              : torch::Tensor();
  for (auto& layer : *blocks_) {
    x = layer->as<CrossAttentionBlockImpl>()->forward(x, projected.image, text_bias, image_bias);
  }
  const auto end_of_text = end_of_text_index(text);  // [B]
  auto rows = torch::arange(x.size(0), end_of_text.options());
  return x.index({rows, end_of_text});  // [B,W]
}

}  // namespace mmtrain
