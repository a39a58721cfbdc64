// What the fused types (early, cross_attention) share: the dual encoder of late fusion for the
// contrastive path (retrieval and zero-shot need one embedding per side, which a fused encoder
// cannot give without pairing), token projections into the fusion width, and a match head.
#pragma once

#include <memory>

#include <torch/arg.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "mmtrain/models/late_fusion.h"

namespace mmtrain {

// The dims come from the towers; the fusion encoder's shape is set by name.
struct MatchFusionOptions {
  explicit MatchFusionOptions(const FusionDims& dims) : dims_(dims) {}
  TORCH_ARG(FusionDims, dims);
  TORCH_ARG(int, width) = 256;  // fusion encoder's width
  TORCH_ARG(int, layers) = 2;
  TORCH_ARG(int, heads) = 4;
  TORCH_ARG(double, mlp_ratio) = 4.0;
};

// Padding of an Encoded's tokens -> [B,T] bool; all false when the tower has none (images).
torch::Tensor padding_of(const Encoded& encoded);
// [B,T] bool true at padding -> additive key mask [B,1,1,T] that broadcasts over the attention
// scores [B,H,Tq,T]. Uses the dtype's lowest finite value, not -inf: exp() still gives exactly 0,
// and a row whose keys are all padding gets uniform weights instead of NaN.
torch::Tensor key_padding_bias(const torch::Tensor& pad_mask, torch::ScalarType dtype);

class MatchFusionImpl : public FusionImpl {
 public:
  torch::Tensor embed_image(const Encoded& image) override { return dual_->embed_image(image); }
  torch::Tensor embed_text(const Encoded& text) override { return dual_->embed_text(text); }
  torch::Tensor logit_scale() override { return dual_->logit_scale(); }
  void clamp_parameters() override { dual_->clamp_parameters(); }
  bool has_match() const override { return true; }
  torch::Tensor match(const Encoded& image, const Encoded& text) final;  // -> [B]
  torch::Tensor fused(const Encoded& image, const Encoded& text) final;  // -> [B,W]
  int fused_width() const final { return width_; }
  // Only the dual encoder's projections are a tower's side: the fusion encoder (its input
  // projections included) reads a locked tower's outputs and keeps training, as in LiT.
  std::vector<torch::Tensor> image_side_parameters() override {
    return dual_->image_side_parameters();
  }
  std::vector<torch::Tensor> text_side_parameters() override {
    return dual_->text_side_parameters();
  }

 protected:
  explicit MatchFusionImpl(const MatchFusionOptions& options);

  struct Projected {
    torch::Tensor image;  // [B,Ti,W]
    torch::Tensor text;   // [B,Tt,W]
  };
  Projected project_tokens(const Encoded& image, const Encoded& text);
  // The fused summary token of aligned pairs, before the final norm: [B,W].
  virtual torch::Tensor summary(const Encoded& image, const Encoded& text) = 0;

 private:
  int width_ = 0;
  std::shared_ptr<LateFusionImpl> dual_;
  torch::nn::Linear image_input_{nullptr};  // D_img -> W
  torch::nn::Linear text_input_{nullptr};   // D_txt -> W
  torch::nn::LayerNorm ln_final_{nullptr};
  torch::nn::Linear match_head_{nullptr};   // W -> 1
};

}  // namespace mmtrain
