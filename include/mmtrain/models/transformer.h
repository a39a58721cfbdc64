// CLIP's pre-LN transformer: LibTorch's TransformerEncoderLayer has no pre-norm option, and the
// parameter names here follow open_clip's (attn.in_proj_weight, mlp.c_fc, ln_1, ...) so that its
// state_dicts map one to one.
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace mmtrain {

enum class Activation { Gelu, QuickGelu };
Activation parse_activation(const std::string& name);  // "gelu" | "quick_gelu"
torch::Tensor apply_activation(const torch::Tensor& x, Activation act);

// Additive mask [L,L]: position i attends to positions <= i (-inf above the diagonal), in like's
// dtype and device.
torch::Tensor causal_mask(int64_t length, const torch::Tensor& like);

// CLIP's initialisation scales for a stack of `layers` residual blocks of `width`: residual
// projections shrink with depth so that the stream's variance stays put.
struct BlockInitStd {
  double attn = 0.0;  // attention input projection
  double proj = 0.0;  // projections back into the residual stream
  double fc = 0.0;    // the MLP's first layer
};
BlockInitStd clip_block_init_std(int width, int layers);

// The width is the owner's stream, so the owner must give it; the stack's own shape (layers, heads,
// ...) is set by name, as LibTorch's options are, because a positional layers/heads swap compiles.
struct TransformerOptions {
  explicit TransformerOptions(int width) : width_(width) {}
  TORCH_ARG(int, width);
  TORCH_ARG(int, layers) = 12;
  TORCH_ARG(int, heads) = 8;
  TORCH_ARG(double, mlp_ratio) = 4.0;
  TORCH_ARG(Activation, act) = Activation::Gelu;
};

// The stack that a tower's or fusion's options describe: anything with width, layers, heads and
// mlp_ratio getters. The activation is left to the caller, as not every owner has one to give.
template <class Options>
TransformerOptions transformer_options_of(const Options& options) {
  return TransformerOptions(options.width())
      .layers(options.layers())
      .heads(options.heads())
      .mlp_ratio(options.mlp_ratio());
}

class SelfAttentionImpl : public torch::nn::Module {
 public:
  SelfAttentionImpl(int width, int heads);
  // x [B,T,D], additive mask [T,T] or [B,1,1,T] (key padding) or undefined -> [B,T,D]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attn_mask);
  // Only queries x_rows [B,R,D] (rows taken from x) attend over all of x [B,T,D]; additive mask
  // broadcastable to [B,H,R,T] or undefined -> [B,R,D]: forward()'s values at those rows.
  torch::Tensor forward_rows(const torch::Tensor& x, const torch::Tensor& x_rows, const torch::Tensor& attn_mask);
  void reset_parameters(double in_std, double out_std);

 private:
  int heads_;
  torch::Tensor in_proj_weight_;  // [3D,D], rows q;k;v
  torch::Tensor in_proj_bias_;    // [3D]
  torch::nn::Linear out_proj_{nullptr};
};
TORCH_MODULE(SelfAttention);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int width, int hidden, Activation act);
  torch::Tensor forward(const torch::Tensor& x);  // [B,T,D] -> [B,T,D]
  void reset_parameters(double fc_std, double proj_std);

 private:
  Activation act_;
  torch::nn::Linear c_fc_{nullptr};
  torch::nn::Linear c_proj_{nullptr};
};
TORCH_MODULE(Mlp);

class ResidualBlockImpl : public torch::nn::Module {
 public:
  explicit ResidualBlockImpl(const TransformerOptions& options);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& attn_mask);
  // Row rows[b] of each sequence only: x [B,T,D], rows [B] int64, additive mask for those rows
  // broadcastable to [B,H,1,T] or undefined -> [B,1,D].
  torch::Tensor forward_rows(const torch::Tensor& x, const torch::Tensor& rows, const torch::Tensor& row_mask);
  void reset_parameters(double attn_std, double proj_std, double fc_std);

 private:
  torch::nn::LayerNorm ln_1_{nullptr};
  SelfAttention attn_{nullptr};
  torch::nn::LayerNorm ln_2_{nullptr};
  Mlp mlp_{nullptr};
};
TORCH_MODULE(ResidualBlock);

class TransformerImpl : public torch::nn::Module {
 public:
  explicit TransformerImpl(const TransformerOptions& options);
  // x [B,T,D], additive attn_mask [T,T] or undefined -> [B,T,D]
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& attn_mask = {});
  // forward()'s output at row rows[b] of each sequence b alone, for a tower that pools one token:
  // the last block normalises every row and projects its keys and values, and does the rest
  // (queries, attention, output projection, MLP) for those rows alone. x [B,T,D],
  // rows [B] int64, attn_mask [T,T] or [B,1,1,T] (key padding) or undefined -> [B,D]
  torch::Tensor forward_rows(torch::Tensor x, const torch::Tensor& rows, const torch::Tensor& attn_mask = {});
  // CLIP's initialisation: std scaled by width and depth.
  void reset_parameters();
  const TransformerOptions& options() const { return options_; }
  // The residual blocks, bottom to top.
  std::vector<std::shared_ptr<torch::nn::Module>> blocks() const { return resblocks_->children(); }
  // While training with gradients on, each block keeps only its input and recomputes the rest in
  // the backward pass (ops/activation_checkpoint.h).
  void set_grad_checkpointing(bool on) { grad_checkpointing_ = on; }

 private:
  torch::Tensor forward_block(size_t index, const torch::Tensor& x, const torch::Tensor& attn_mask);

  TransformerOptions options_;
  torch::nn::ModuleList resblocks_;
  bool grad_checkpointing_ = false;
};
TORCH_MODULE(Transformer);

// train.grad_checkpointing: every transformer stack under root recomputes its blocks.
void enable_grad_checkpointing(torch::nn::Module& root);

}  // namespace mmtrain
