#include "mmtrain/models/convnet.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

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

ConvNetImpl::ConvNetImpl(const ConvNetOptions& options) : options_(options) {
  TORCH_CHECK(options.width() > 0, "convnet: width must be positive, found ", options.width());
  TORCH_CHECK(options.layers() > 0, "convnet: layers must be positive, found ", options.layers());
  const int downsample = 1 << (options.layers() - 1);
  TORCH_CHECK(options.image_size() > 0 && options.image_size() % downsample == 0,
              "convnet: image size ", options.image_size(), " must be a positive multiple of ",
              downsample, " for ", options.layers(), " stages");
  torch::nn::Sequential features;
  int in_channels = 3;
  for (int stage = 0; stage < options.layers(); ++stage) {
    const int channels = options.width() << stage;
    push_conv_bn_relu(features, in_channels, channels, stage == 0 ? 1 : 2);
    push_conv_bn_relu(features, channels, channels, 1);
    in_channels = channels;
  }
  features_ = register_module("features", features);
  proj_ = register_module("proj", torch::nn::Linear(in_channels, options.width()));
}

Encoded ConvNetImpl::forward(const torch::Tensor& images) {
  auto map = features_->forward(images);                 // [B,C,H',W']
  auto tokens = linear(proj_, map.flatten(2).transpose(1, 2));  // [B,H'W',width]
  return Encoded{tokens, tokens.mean(1), {}};
}

}  // namespace mmtrain
