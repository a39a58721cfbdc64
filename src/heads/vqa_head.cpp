#include "mmtrain/heads/vqa_head.h"

#include <torch/nn/functional/activation.h>

#include "mmtrain/errors.h"
#include "mmtrain/ops/full_precision.h"

namespace mmtrain {

VqaClassifierImpl::VqaClassifierImpl(const HeadConfig& config, const HeadDims& dims) : answers_(config.answers) {
  TORCH_CHECK(dims.fused_width > 0, "vqa head: the fusion gives no joint representation (use a fused type)");
  const int64_t hidden = 2 * static_cast<int64_t>(dims.fused_width);
  fc1_ = register_module("fc1", torch::nn::Linear(dims.fused_width, hidden));
  norm_ = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  fc2_ = register_module("fc2", torch::nn::Linear(hidden, answers_));
}

torch::Tensor VqaClassifierImpl::forward(const ModelOutput& output) {
  TORCH_CHECK(output.fused.defined(), "vqa head: the model gave no joint representation");
  // A few small matrices: fp32 throughout, like every logit.
  FullPrecisionScope fp32;
  const auto x = output.fused.to(torch::kFloat);                          // [B,W]
  const auto h = torch::nn::functional::gelu(norm_(fc1_(x)));             // [B,2W]
  return fc2_(h);                                                         // [B,A]
}

VqaClassifierImpl& vqa_head_of(MultimodalModelImpl& model, const std::string& what) {
  return head_of<VqaClassifierImpl>(model, what, "a VQA head", "vqa");
}

void register_vqa_head() {
  HeadDescriptor descriptor;
  descriptor.needs.match_head = true;  // the fused types' joint representation
  descriptor.answers = true;
  register_head<VqaClassifierImpl>("vqa", descriptor);
}

}  // namespace mmtrain
