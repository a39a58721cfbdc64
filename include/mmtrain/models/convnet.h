// A small, fast CNN vision tower for tiny images (CIFAR-sized smoke runs and tests), where a ViT's
// patch grid would be a handful of tokens. Each stage is two conv3x3-BN-ReLU; every stage after
// the first opens with a stride-2 conv and doubles the channels (width, 2*width, 4*width, ...).
#pragma once

#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

#include "mmtrain/models/tower.h"

namespace mmtrain {

// The image size is the data's; the rest is set by name.
struct ConvNetOptions {
  explicit ConvNetOptions(int image_size) : image_size_(image_size) {}
  TORCH_ARG(int, image_size);
  TORCH_ARG(int, width) = 32;  // channels of the first stage, and D of the output
  TORCH_ARG(int, layers) = 3;  // stages; the feature map is image_size / 2^(layers-1) on a side
};

class ConvNetImpl : public VisionTowerImpl {
 public:
  explicit ConvNetImpl(const ConvNetOptions& options);
  // [B,3,H,W] -> tokens [B,HW',width], pooled [B,width] = mean of the tokens. The last feature
  // map is projected per position, so tokens share pooled's D (what fusions over tokens expect);
  // a linear projection commutes with the mean, so pooled is global average pool then Linear.
  Encoded forward(const torch::Tensor& images) override;
  int width() const override { return options_.width(); }

 private:
  ConvNetOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear proj_{nullptr};
};
TORCH_MODULE(ConvNet);

}  // namespace mmtrain
