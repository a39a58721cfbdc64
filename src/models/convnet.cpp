#include "mmtrain/models/convnet.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include "mmtrain/ops/grid.h"
#include "mmtrain/ops/layer_norm.h"
#include "mmtrain/ops/linear.h"

namespace mmtrain {

namespace {

void push_conv_bn_relu(torch::nn::Sequential& seq, int in, int out, int stride) {
  // No conv bias: the BatchNorm right after it has its own.
  seq->push_back(torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  seq->push_back(torch::nn::BatchNorm2d(out));
  seq->push_back(torch::nn::ReLU());
}

}  // namespace

torch::Tensor sincos_position_code(int64_t side, int64_t dim, torch::Device device) {
  TORCH_CHECK(side > 0 && dim > 0 && dim % 4 == 0, "sincos position code: dim ", dim,
              " must be a positive multiple of 4 (sine and cosine for each of two axes)");
  const auto float_options = torch::TensorOptions().dtype(torch::kFloat).device(device);
  const int64_t quarter = dim / 4;
  const auto k = torch::arange(quarter, float_options);                       // [D/4]
  const auto omega = torch::pow(10000.0, -k / static_cast<double>(quarter));  // [D/4]
  const auto cells = grid_cells(side, float_options);                          // [N,2]: column, row
  const auto angle_x = cells.select(1, 0).unsqueeze(1) * omega;                // [N,D/4]
  const auto angle_y = cells.select(1, 1).unsqueeze(1) * omega;
  return torch::cat({angle_x.sin(), angle_x.cos(), angle_y.sin(), angle_y.cos()}, 1);  // [N,D]
}

ConvNetImpl::ConvNetImpl(const ConvNetOptions& options) : options_(options) {
  TORCH_CHECK(options.width() > 0, "convnet: width must be positive, found ", options.width());
  TORCH_CHECK(options.layers() > 0, "convnet: layers must be positive, found ", options.layers());
  const int downsample = 1 << (options.layers() - 1);
  TORCH_CHECK(options.image_size() > 0 && options.image_size() % downsample == 0,
              "convnet: image size ", options.image_size(), " must be a positive multiple of ",
              downsample, " for ", options.layers(), " stages");
  TORCH_CHECK(options.output_width() >= 0, "convnet: output width must not be negative, found ", options.output_width());
  TORCH_CHECK(!options.position_code() || width() % 4 == 0,
              "convnet: model.vision.position sincos needs tokens whose width is a multiple of 4, found ", width());
  torch::nn::Sequential features;
  int in_channels = 3;
  for (int stage = 0; stage < options.layers(); ++stage) {
    const int channels = options.width() << stage;
    push_conv_bn_relu(features, in_channels, channels, stage == 0 ? 1 : 2);
    push_conv_bn_relu(features, channels, channels, 1);
    in_channels = channels;
  }
  features_ = register_module("features", features);
  proj_ = register_module("proj", torch::nn::Linear(in_channels, width()));
  if (options.output_width() > 0) {
    ln_post_ = register_module("ln_post", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width()})));
  }
}

Encoded ConvNetImpl::forward(const torch::Tensor& images) {
  auto map = features_->forward(images);                 // [B,C,H',W']
  auto tokens = linear(proj_, map.flatten(2).transpose(1, 2));  // [B,H'W',width]
  if (ln_post_) tokens = layer_norm_for_linear(ln_post_, tokens);
  auto pooled = tokens.mean(1);                                  // [B,width]
  if (options_.position_code()) {
    // Built where the tokens are: no host-to-device copy per step.
    tokens = tokens + sincos_position_code(map.size(2), width(), tokens.device()).to(tokens.scalar_type());
  }
  return Encoded{tokens, pooled, {}};
}

}  // namespace mmtrain
