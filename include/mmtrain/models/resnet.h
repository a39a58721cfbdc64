// CLIP's ModifiedResNet vision tower: a three-conv stem with an average pool in place of the max
// pool, anti-aliased strides (average pool before the strided 1x1 convs), and attention pooling
// in place of global average pooling. Parameter names follow CLIP's (conv1, bn1, layer1.0.conv1,
// downsample.0, attnpool.q_proj, ...) so that its state_dicts map one to one.
#pragma once

#include <vector>

#include <torch/arg.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "mmtrain/models/tower.h"

namespace mmtrain {

// The image size is the data's; the rest defaults to RN50 and is set by name.
struct ResNetOptions {
  explicit ResNetOptions(int image_size) : image_size_(image_size) {}
  TORCH_ARG(int, image_size);
  TORCH_ARG(int, width) = 64;  // stem width w; the stages are w, 2w, 4w, 8w wide before the x4 expansion
  TORCH_ARG(std::vector<int>, stage_layers) = std::vector<int>{3, 4, 6, 3};
  TORCH_ARG(int, heads) = 32;  // of the attention pool, over the 32w channels of the last stage
  TORCH_ARG(int, output_dim) = 1024;
};

class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int kExpansion = 4;
  BottleneckImpl(int in_channels, int planes, int stride);
  torch::Tensor forward(const torch::Tensor& x);  // [B,in,H,W] -> [B,4*planes,H/stride,W/stride]

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::AvgPool2d avgpool_{nullptr};     // null when stride is 1
  torch::nn::Sequential downsample_{nullptr};  // null when the input already fits the output
};
TORCH_MODULE(Bottleneck);

// One multi-head attention whose single query is the mean of the feature map.
class AttentionPool2dImpl : public torch::nn::Module {
 public:
  AttentionPool2dImpl(int spatial, int embed_dim, int heads, int output_dim);
  // [B,C,H,W] -> pooled [B,output_dim], and per-position tokens [B,HW,output_dim] (the value and
  // output projections applied to each position, so fused models see tokens of the pooled width).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);

 private:
  int heads_;
  torch::Tensor positional_embedding_;  // [HW+1,C]
  torch::nn::Linear q_proj_{nullptr}, k_proj_{nullptr}, v_proj_{nullptr}, c_proj_{nullptr};
};
TORCH_MODULE(AttentionPool2d);

class ResNetImpl : public VisionTowerImpl {
 public:
  explicit ResNetImpl(const ResNetOptions& options);
  // [B,3,H,W] -> tokens [B,HW/1024,32w] (the last feature map), pooled [B,output_dim]
  Encoded forward(const torch::Tensor& images) override;
  int width() const override { return options_.output_dim(); }

 private:
  torch::Tensor stem(const torch::Tensor& images);  // [B,3,H,W] -> [B,w,H/4,W/4]

  ResNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::AvgPool2d avgpool_{nullptr};
  std::vector<torch::nn::Sequential> stages_;  // layer1..layer4
  AttentionPool2d attnpool_{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace mmtrain
