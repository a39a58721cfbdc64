// AdamW whose step is one pass over all parameters at once. LibTorch's AdamW runs about ten
// operators per parameter, and most of a CLIP model's parameters (biases, norms, small matrices)
// are below LibTorch's parallel grain, so the step ran ~1,000 serial operators on one core. Here
// the elements of every parameter form one range split over LibTorch's threads, and each element
// takes weight decay, both moments and the update in one visit. The arithmetic, the order of the
// roundings and the per-parameter state (step, exp_avg, exp_avg_sq) are LibTorch's, so
// checkpoints written by either load into the other. On CUDA (LibTorch 2.x) the step is
// LibTorch's fused multi-tensor AdamW kernel. Other devices, dtypes, amsgrad and non-contiguous
// tensors go through LibTorch's step.
#pragma once

#include <torch/optim/adamw.h>

#include <vector>

#include "mmtrain/ops/dispatch.h"

namespace mmtrain {

class FusedAdamW : public torch::optim::AdamW {
 public:
  FusedAdamW(std::vector<torch::optim::OptimizerParamGroup> groups, torch::optim::AdamWOptions defaults);

  // The L2 norm over every gradient the next step will use (PyTorch's clip_grad_norm_ total norm),
  // accumulated in double in one parallel pass; inf or NaN when a gradient holds one.
  double gradient_norm();

  // One step with every gradient multiplied by grad_scale first (clipping passes
  // max_norm / (norm + 1e-6) when that is below 1).
  void step_scaled(double grad_scale);

  torch::Tensor step(LossClosure closure = nullptr) override;

  // Each group's learning rate as a multiple of the schedule's (layer-wise rates); 1 where unset.
  void set_lr_scales(std::vector<double> scales) { lr_scales_ = std::move(scales); }
  double lr_scale(size_t group) const { return group < lr_scales_.size() ? lr_scales_[group] : 1.0; }

 private:
  std::vector<double> lr_scales_;

  // The implementation every parameter with a gradient can take (libtorch when they differ).
  ops::Impl common_impl() const;
  torch::optim::AdamWParamState& state_of(const torch::Tensor& parameter);
  void step_cpu_fused(double grad_scale);
  void step_cuda_fused(double grad_scale);

  // The gradients the next step will use: those of parameters that have one.
  std::vector<torch::Tensor> gradients() const;
};

// The factor PyTorch's clip_grad_norm_(max_norm) multiplies the gradients by, given their total
// norm: max_norm / (norm + 1e-6) where that is below 1, otherwise 1. max_norm <= 0: no clipping.
double clip_factor(double norm, double max_norm);

}  // namespace mmtrain
