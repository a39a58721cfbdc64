#include "mmtrain/models/vit.h"

#include <algorithm>
#include <cmath>

#include "mmtrain/ops/full_precision.h"

namespace mmtrain {

VitImpl::VitImpl(const VitOptions& options) : options_(options) {
  TORCH_CHECK(options.image_size() % options.patch_size() == 0, "patch size ", options.patch_size(),
              " does not divide image size ", options.image_size());
  const int grid = options.image_size() / options.patch_size();
  const double scale = std::pow(options.width(), -0.5);
  conv1_ = register_module(
      "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, options.width(), options.patch_size())
                                     .stride(options.patch_size())
                                     .bias(false)));
  class_embedding_ = register_parameter("class_embedding", scale * torch::randn({options.width()}));
  positional_embedding_ = register_parameter(
      "positional_embedding", scale * torch::randn({grid * grid + 1, options.width()}));
  ln_pre_ = register_module("ln_pre", torch::nn::LayerNorm(torch::nn::LayerNormOptions({options.width()})));
  transformer_ = register_module(
      "transformer",
      Transformer(transformer_options_of(options).act(options.act())));
  if (options.attn_pool_queries() > 0) {
    attn_pool_ = register_module("attn_pool", AttentionalPooler(pool_width(), options.width(),
                                                                options.attn_pool_queries(), options.attn_pool_heads()));
  }
  ln_post_ = register_module("ln_post", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width()})));
}

// The stride-p, p x p convolution as one matmul over flattened patches: the same sums, but
// LibTorch 1.13's CPU convolution backward in bf16 took 7 ms a step on the tiny ViT, the matmul
// well under one.
torch::Tensor VitImpl::patch_embed(const torch::Tensor& images) const {
  const int64_t batch = images.size(0), channels = images.size(1), p = options_.patch_size();
  TORCH_CHECK(images.dim() == 4 && images.size(2) % p == 0 && images.size(3) % p == 0, "vit: images ", images.sizes(),
              " are not [B,C,H,W] with H and W multiples of the patch size ", p);
  const int64_t grid_h = images.size(2) / p, grid_w = images.size(3) / p;
  auto patches = images.reshape({batch, channels, grid_h, p, grid_w, p})
                     .permute({0, 2, 4, 1, 3, 5})  // [B,gh,gw,C,p,p]: a patch's pixels in the weight's order
                     .reshape({batch, grid_h * grid_w, channels * p * p});
  return torch::linear(patches, conv1_->weight.view({options_.width(), channels * p * p}));
}

torch::Tensor VitImpl::stream_in(const torch::Tensor& images) {
  const int64_t batch = images.size(0);
  auto patches = patch_embed(images);  // [B,N,D]
  auto cls = class_embedding_.to(patches.dtype()).expand({batch, 1, options_.width()});
  auto x = torch::cat({cls, patches}, 1) + positional_embedding_.to(patches.dtype());  // [B,1+N,D]
  return layer_norm_fp32(ln_pre_, drop_patches(x));
}

// FLIP's patch dropout, where open_clip applies it (after the positional embedding, before
// ln_pre): each image keeps the class token and a random max(1, floor(N * (1 - p))) of its patches.
// Drawn from the global CPU generator, which checkpoints keep, so that a resumed run draws the same.
torch::Tensor VitImpl::drop_patches(const torch::Tensor& x) const {
  if (!is_training() || options_.patch_dropout() <= 0.0) return x;
  const int64_t batch = x.size(0), patches = x.size(1) - 1;
  const int64_t keep = std::max<int64_t>(1, static_cast<int64_t>(patches * (1.0 - options_.patch_dropout())));
  const auto kept = std::get<1>(torch::rand({batch, patches}).topk(keep, 1)).to(x.device()) + 1;  // [B,K]
  const auto rows = torch::cat({torch::zeros({batch, 1}, kept.options()), kept}, 1);                 // [B,1+K]
  return x.gather(1, rows.unsqueeze(2).expand({batch, keep + 1, x.size(2)}));
}

std::vector<DepthGroup> VitImpl::depth_groups() {
  auto embeddings = parameters_of({conv1_.get(), ln_pre_.get()});
  embeddings.push_back(class_embedding_);
  embeddings.push_back(positional_embedding_);
  return transformer_depth_groups(std::move(embeddings), *transformer_,
                                  parameters_of({attn_pool_ ? attn_pool_.get() : nullptr, ln_post_.get()}));
}

Encoded VitImpl::forward(const torch::Tensor& images) {
  if (attn_pool_) {
    auto pooled = layer_norm_fp32(ln_post_, attn_pool_(transformer_(stream_in(images))));  // [B,Q,P]
    return Encoded{pooled.slice(1, 1), pooled.select(1, 0), {}};
  }
  auto x = layer_norm_fp32(ln_post_, transformer_(stream_in(images)));
  auto pooled = options_.pool() == Pooling::Cls ? x.select(1, 0) : x.slice(1, 1).mean(1);  // [B,D]
  return Encoded{x, pooled, {}};
}

torch::Tensor VitImpl::forward_pooled(const torch::Tensor& images) {
  if (options_.pool() != Pooling::Cls || attn_pool_) return forward(images).pooled;
  const auto cls_rows = torch::zeros({images.size(0)}, torch::TensorOptions(torch::kLong).device(images.device()));
  return layer_norm_fp32(ln_post_, transformer_->forward_rows(stream_in(images), cls_rows));  // [B,D]
}

}  // namespace mmtrain
