// The VQA classifier head: the fusion's joint representation of (image, question) scored over an
// answer vocabulary (data/answer_vocab.h), as ViLT and ALBEF's classifier variants do:
// Linear(W, 2W), LayerNorm, GELU, Linear(2W, model.head.answers). Needs a fused type (early or
// cross_attention); trained by the vqa (soft binary cross-entropy) or vqa_ce loss term.
#pragma once

#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "mmtrain/heads/task_head.h"

namespace mmtrain {

class VqaClassifierImpl : public TaskHeadImpl {
 public:
  VqaClassifierImpl(const HeadConfig& config, const HeadDims& dims);
  // The model's outputs (ModelOutput::fused [B,W]) -> answer logits [B,A] float32.
  torch::Tensor forward(const ModelOutput& output) override;
  bool reads_tokens() const override { return true; }
  bool reads_fused() const override { return true; }
  int64_t answers() const { return answers_; }

 private:
  int64_t answers_ = 0;
  torch::nn::Linear fc1_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear fc2_{nullptr};
};
TORCH_MODULE(VqaClassifier);

// The model's VQA head; throws ConfigError naming `what` when the model has none.
VqaClassifierImpl& vqa_head_of(MultimodalModelImpl& model, const std::string& what);

void register_vqa_head();

}  // namespace mmtrain
