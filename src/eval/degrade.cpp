#include "mmtrain/eval/degrade.h"

#include <cmath>

#include <torch/nn/functional/conv.h>
#include <torch/nn/functional/padding.h>
#include <torch/torch.h>

#include "mmtrain/data/rng.h"

namespace mmtrain {

std::vector<Degradation> evaluated_degradations() { return {Degradation::kBlur, Degradation::kOcclusion}; }

std::string degradation_suffix(Degradation kind) {
  switch (kind) {
    case Degradation::kBlur: return "@blur";
    case Degradation::kOcclusion: return "@occluded";
    case Degradation::kNone: break;
  }
  return "";
}

namespace {

// One separable pass of a normalised Gaussian along the last dimension of [B,C,H,W].
at::Tensor blur_rows(const at::Tensor& images, double sigma) {
  const int64_t radius = std::min<int64_t>(static_cast<int64_t>(std::ceil(3.0 * sigma)), images.size(3) - 1);
  auto offsets = torch::arange(-radius, radius + 1, images.options());
  auto kernel = torch::exp(-offsets.pow(2) / (2.0 * sigma * sigma));
  kernel = (kernel / kernel.sum()).view({1, 1, 1, 2 * radius + 1}).expand({images.size(1), 1, 1, 2 * radius + 1});
  namespace F = torch::nn::functional;
  const auto padded = F::pad(images, F::PadFuncOptions({radius, radius, 0, 0}).mode(torch::kReplicate));
  return F::conv2d(padded, kernel.contiguous(), F::Conv2dFuncOptions().groups(images.size(1)));
}

at::Tensor blur(const at::Tensor& images) {
  const double sigma = std::max(1.0, static_cast<double>(images.size(2)) / 16.0);
  return blur_rows(blur_rows(images, sigma).transpose(2, 3), sigma).transpose(2, 3).contiguous();
}

at::Tensor occlude(const at::Tensor& images, uint64_t seed, int64_t first_row) {
  auto out = images.clone();
  const int64_t h = images.size(2), w = images.size(3);
  for (int64_t b = 0; b < images.size(0); ++b) {
    auto rng = SplitMix64::stream(seed, StreamTag::kEvalOcclusion, {static_cast<uint64_t>(first_row + b)});
    auto image = out[b];
    switch (rng.below(4)) {
      case 0: image.narrow(2, 0, w / 2).zero_(); break;            // left
      case 1: image.narrow(2, w - w / 2, w / 2).zero_(); break;    // right
      case 2: image.narrow(1, 0, h / 2).zero_(); break;            // top
      default: image.narrow(1, h - h / 2, h / 2).zero_(); break;  // bottom
    }
  }
  return out;
}

}  // namespace

at::Tensor degrade_images(const at::Tensor& images, Degradation kind, uint64_t seed, int64_t first_row) {
  TORCH_CHECK(images.dim() == 4, "degrade_images: expected [B,C,H,W], got ", images.sizes());
  switch (kind) {
    case Degradation::kBlur: return blur(images);
    case Degradation::kOcclusion: return occlude(images, seed, first_row);
    case Degradation::kNone: break;
  }
  return images;
}

}  // namespace mmtrain
