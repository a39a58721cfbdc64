// A small, fast CNN vision tower for tiny images (CIFAR-sized smoke runs and tests), where a ViT's
// patch grid would be a handful of tokens. Each stage is two conv3x3-BN-ReLU; every stage after
// the first opens with a stride-2 conv and doubles the channels (width, 2*width, 4*width, ...).
#pragma once

#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "mmtrain/models/tower.h"

namespace mmtrain {

// The image size is the data's; the rest is set by name.
struct ConvNetOptions {
  explicit ConvNetOptions(int image_size) : image_size_(image_size) {}
  TORCH_ARG(int, image_size);
  TORCH_ARG(int, width) = 32;  // channels of the first stage
  // D of the tokens and pooled, normalised (ln_post) as a ViT's leave; 0: width, unnormalised
  // (the first version's tokens, kept so that its checkpoints load and its runs repeat).
  TORCH_ARG(int, output_width) = 0;
  TORCH_ARG(int, layers) = 3;  // stages; the feature map is image_size / 2^(layers-1) on a side
  // Adds sincos_position_code to the tokens (their width a multiple of 4); pooled stays the
  // mean of the features alone.
  TORCH_ARG(bool, position_code) = false;
};

// The fixed 2-D position code of a side x side grid in token order (grid_cells, ops/grid.h):
// [side*side, dim] float32 on `device`, dim a multiple of 4. Cell (row r, column c) gets
// [sin(c w_k), cos(c w_k), sin(r w_k), cos(r w_k)] for k < dim/4, w_k = 10000^(-k/(dim/4)): the
// transformer's sinusoid per axis, as MAE and DETR lay it out.
torch::Tensor sincos_position_code(int64_t side, int64_t dim, torch::Device device = torch::kCPU);

class ConvNetImpl : public VisionTowerImpl {
 public:
  explicit ConvNetImpl(const ConvNetOptions& options);
  // [B,3,H,W] -> tokens [B,HW',width], pooled [B,width] = mean of the tokens. The last feature
  // map is projected per position, so tokens share pooled's D (what fusions over tokens expect);
  // with output_width they are normalised too (a fusion's attention reads them as they come).
  // With position_code, tokens = projected features + sincos_position_code(H', width).
  Encoded forward(const torch::Tensor& images) override;
  int width() const override { return options_.output_width() > 0 ? options_.output_width() : options_.width(); }

 private:
  ConvNetOptions options_;
  torch::nn::Sequential features_{nullptr};
  torch::nn::Linear proj_{nullptr};
  torch::nn::LayerNorm ln_post_{nullptr};  // with output_width only
};
TORCH_MODULE(ConvNet);

}  // namespace mmtrain
