// The ViT vision tower in CLIP's layout: patch conv without bias, class token, learned positional
// embedding, ln_pre, pre-LN transformer, ln_post, pooled by class token or mean of patches; or, in
// CoCa's layout, an attentional pooler after the transformer whose first query is pooled and whose
// others are the tokens, ln_post on its output.
#pragma once

#include <torch/arg.h>
#include <torch/nn/modules/conv.h>

#include "mmtrain/models/attentional_pooler.h"
#include "mmtrain/models/tower.h"
#include "mmtrain/models/transformer.h"

namespace mmtrain {

enum class Pooling { Cls, Mean };

// The image size is the data's; the rest defaults to ViT-B/16 and is set by name.
struct VitOptions {
  explicit VitOptions(int image_size) : image_size_(image_size) {}
  TORCH_ARG(int, image_size);
  TORCH_ARG(int, patch_size) = 16;
  TORCH_ARG(int, width) = 768;
  TORCH_ARG(int, layers) = 12;
  TORCH_ARG(int, heads) = 12;
  TORCH_ARG(double, mlp_ratio) = 4.0;
  TORCH_ARG(Activation, act) = Activation::Gelu;
  TORCH_ARG(Pooling, pool) = Pooling::Cls;
  TORCH_ARG(int, attn_pool_queries) = 0;  // > 0: CoCa's attentional pooler with this many queries
  TORCH_ARG(int, attn_pool_heads) = 8;
  TORCH_ARG(int, attn_pool_width) = 0;    // its output width; 0 = width
  TORCH_ARG(double, patch_dropout) = 0.0;  // while training: this fraction of patch tokens dropped
};

class VitImpl : public VisionTowerImpl {
 public:
  explicit VitImpl(const VitOptions& options);
  // [B,3,H,W] -> tokens [B,1+N,D]; with the attentional pooler tokens [B,Q-1,P], pooled [B,P]
  Encoded forward(const torch::Tensor& images) override;
  torch::Tensor forward_pooled(const torch::Tensor& images) override;  // -> [B,D] (or [B,P])
  int width() const override { return attn_pool_ ? pool_width() : options_.width(); }
  std::vector<DepthGroup> depth_groups() override;

 private:
  torch::Tensor patch_embed(const torch::Tensor& images) const;  // [B,3,H,W] -> [B,N,D]
  torch::Tensor drop_patches(const torch::Tensor& x) const;      // [B,1+N,D] -> [B,1+K,D] while training
  torch::Tensor stream_in(const torch::Tensor& images);  // -> [B,1+N,D] after ln_pre
  int pool_width() const { return options_.attn_pool_width() > 0 ? options_.attn_pool_width() : options_.width(); }

  VitOptions options_;
  torch::nn::Conv2d conv1_{nullptr};  // weight only, [D,3,p,p] as in open_clip's state_dict
  torch::Tensor class_embedding_;       // [D]
  torch::Tensor positional_embedding_;  // [1+N,D]
  torch::nn::LayerNorm ln_pre_{nullptr};
  Transformer transformer_{nullptr};
  AttentionalPooler attn_pool_{nullptr};  // CoCa's layout only
  torch::nn::LayerNorm ln_post_{nullptr};  // [D], or [P] after the attentional pooler
};
TORCH_MODULE(Vit);

}  // namespace mmtrain
