#include "mmtrain/models/transformer.h"

#include <cmath>
#include <limits>

#include "mmtrain/errors.h"
#include "mmtrain/ops/activation_checkpoint.h"
#include "mmtrain/ops/attention.h"
#include "mmtrain/ops/gelu.h"
#include "mmtrain/ops/layer_norm.h"
#include "mmtrain/ops/linear.h"
#include "mmtrain/ops/residual.h"

namespace mmtrain {

Activation parse_activation(const std::string& name) {
  if (name == "gelu") return Activation::Gelu;
  if (name == "quick_gelu") return Activation::QuickGelu;
  throw ConfigError("activation '" + name + "' is not one of: gelu, quick_gelu");
}

torch::Tensor causal_mask(int64_t length, const torch::Tensor& like) {
  return torch::full({length, length}, -std::numeric_limits<float>::infinity(), like.options()).triu(1);
}

torch::Tensor apply_activation(const torch::Tensor& x, Activation act) {
  // OpenAI's original weights were trained with x * sigmoid(1.702 x), not the exact GELU.
  if (act == Activation::QuickGelu) return x * torch::sigmoid(1.702 * x);
  return gelu_erf(x);
}

SelfAttentionImpl::SelfAttentionImpl(int width, int heads) : heads_(heads) {
  TORCH_CHECK(width % heads == 0, "attention width ", width, " not divisible by heads ", heads);
  in_proj_weight_ = register_parameter("in_proj_weight", torch::empty({3 * width, width}));
  in_proj_bias_ = register_parameter("in_proj_bias", torch::zeros({3 * width}));
  out_proj_ = register_module("out_proj", torch::nn::Linear(width, width));
  reset_parameters(std::pow(width, -0.5), std::pow(width, -0.5));
}

void SelfAttentionImpl::reset_parameters(double in_std, double out_std) {
  torch::NoGradGuard no_grad;
  in_proj_weight_.normal_(0.0, in_std);
  in_proj_bias_.zero_();
  out_proj_->weight.normal_(0.0, out_std);
  out_proj_->bias.zero_();
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& attn_mask) {
  auto qkv = torch::linear(x, in_proj_weight_, in_proj_bias_);  // [B,T,3D]
  return linear(out_proj_, self_attention(qkv, attn_mask, heads_));
}

torch::Tensor SelfAttentionImpl::forward_rows(const torch::Tensor& x, const torch::Tensor& x_rows,
                                              const torch::Tensor& attn_mask) {
  const int64_t width = x.size(2);
  auto q = torch::linear(x_rows, in_proj_weight_.narrow(0, 0, width), in_proj_bias_.narrow(0, 0, width));  // [B,R,D]
  auto kv = torch::linear(x, in_proj_weight_.narrow(0, width, 2 * width),
                          in_proj_bias_.narrow(0, width, 2 * width));  // [B,T,2D]
  return linear(out_proj_, cross_attention(q, kv, attn_mask, heads_));
}

MlpImpl::MlpImpl(int width, int hidden, Activation act) : act_(act) {
  c_fc_ = register_module("c_fc", torch::nn::Linear(width, hidden));
  c_proj_ = register_module("c_proj", torch::nn::Linear(hidden, width));
}

void MlpImpl::reset_parameters(double fc_std, double proj_std) {
  torch::NoGradGuard no_grad;
  c_fc_->weight.normal_(0.0, fc_std);
  c_fc_->bias.zero_();
  c_proj_->weight.normal_(0.0, proj_std);
  c_proj_->bias.zero_();
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  return linear(c_proj_, apply_activation(linear(c_fc_, x), act_));
}

ResidualBlockImpl::ResidualBlockImpl(const TransformerOptions& options) {
  const auto hidden = static_cast<int>(std::lround(options.width() * options.mlp_ratio()));
  ln_1_ = register_module("ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.width()})));
  attn_ = register_module("attn", SelfAttention(options.width(), options.heads()));
  ln_2_ = register_module("ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.width()})));
  mlp_ = register_module("mlp", Mlp(options.width(), hidden, options.act()));
}

void ResidualBlockImpl::reset_parameters(double attn_std, double proj_std, double fc_std) {
  attn_->reset_parameters(attn_std, proj_std);
  mlp_->reset_parameters(fc_std, proj_std);
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& attn_mask) {
  auto h = add_residual(x, attn_(layer_norm_for_linear(ln_1_, x), attn_mask));
  return add_residual(h, mlp_(layer_norm_for_linear(ln_2_, h)));
}

namespace {

// Row rows[b] of each x[b]: [B,T,D] -> [B,1,D].
torch::Tensor pick_rows(const torch::Tensor& x, const torch::Tensor& rows) {
  return x.index({torch::arange(x.size(0), rows.options()), rows}).unsqueeze(1);
}

}  // namespace

torch::Tensor ResidualBlockImpl::forward_rows(const torch::Tensor& x, const torch::Tensor& rows,
                                              const torch::Tensor& row_mask) {
  const auto normed = layer_norm_for_linear(ln_1_, x);  // every row: keys and values
  auto h = add_residual(pick_rows(x, rows), attn_->forward_rows(normed, pick_rows(normed, rows), row_mask));
  return add_residual(h, mlp_(layer_norm_for_linear(ln_2_, h)));
}

TransformerImpl::TransformerImpl(const TransformerOptions& options) : options_(options) {
  resblocks_ = register_module("resblocks", torch::nn::ModuleList());
  for (int i = 0; i < options.layers(); ++i) resblocks_->push_back(ResidualBlock(options));
  reset_parameters();
}

BlockInitStd clip_block_init_std(int width, int layers) {
  BlockInitStd init;
  init.attn = std::pow(width, -0.5);
  init.proj = init.attn * std::pow(2.0 * layers, -0.5);
  init.fc = std::pow(2.0 * width, -0.5);
  return init;
}

void TransformerImpl::reset_parameters() {
  const BlockInitStd init = clip_block_init_std(options_.width(), options_.layers());
  for (auto& block : *resblocks_) {
    block->as<ResidualBlockImpl>()->reset_parameters(init.attn, init.proj, init.fc);
  }
}

torch::Tensor TransformerImpl::forward_block(size_t index, const torch::Tensor& x, const torch::Tensor& attn_mask) {
  auto block = resblocks_->ptr<ResidualBlockImpl>(index);
  if (!grad_checkpointing_ || !is_training() || !torch::GradMode::is_enabled()) return block->forward(x, attn_mask);
  return recompute_in_backward([block, attn_mask](const torch::Tensor& in) { return block->forward(in, attn_mask); },
                               x, block->parameters());
}

torch::Tensor TransformerImpl::forward(torch::Tensor x, const torch::Tensor& attn_mask) {
  for (size_t i = 0; i < resblocks_->size(); ++i) x = forward_block(i, x, attn_mask);
  return x;
}

void enable_grad_checkpointing(torch::nn::Module& root) {
  for (const auto& module : root.modules()) {
    if (auto* stack = module->as<TransformerImpl>()) stack->set_grad_checkpointing(true);
  }
}

torch::Tensor TransformerImpl::forward_rows(torch::Tensor x, const torch::Tensor& rows, const torch::Tensor& attn_mask) {
  // A [T,T] mask becomes each picked row's own [1,T]; a key-padding mask [B,1,1,T] holds for any row.
  TORCH_CHECK(!attn_mask.defined() || attn_mask.dim() == 2 || (attn_mask.dim() == 4 && attn_mask.size(2) == 1),
              "transformer: forward_rows takes a [T,T] or [B,1,1,T] mask, got ", attn_mask.sizes());
  const auto blocks = resblocks_->size();
  if (blocks == 0) return pick_rows(x, rows).squeeze(1);
  for (size_t i = 0; i + 1 < blocks; ++i) x = forward_block(i, x, attn_mask);
  const auto row_mask = attn_mask.defined() && attn_mask.dim() == 2
                            ? attn_mask.index_select(0, rows).view({rows.size(0), 1, 1, attn_mask.size(1)})
                            : attn_mask;
  return resblocks_[blocks - 1]->as<ResidualBlockImpl>()->forward_rows(x, rows, row_mask).squeeze(1);
}

}  // namespace mmtrain
