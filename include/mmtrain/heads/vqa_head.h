// The VQA classifier head: the fusion's joint representation of (image, question) scored over an
// answer vocabulary (data/answer_vocab.h), as ViLT and ALBEF's classifier variants do:
// Linear(W, 2W), LayerNorm, GELU, Linear(2W, model.head.answers). Needs a fused type (early or
// cross_attention); trained by the vqa (soft binary cross-entropy) or vqa_ce loss term.
// With model.head.point words the classifier also reads where the question's words point: each
// word of the text tower scores every patch of the vision tower (Linear(Dt, D) of the word against
// Linear(D, D) of the patch), the scores add up over the words, and a softmax over the patches
// gives the expected grid position and the attended features, [B,2+D], beside the joint
// representation (Linear(W + 2 + D, 2W) first). The vqa_point loss term trains that attention to
// fall on the object the question is about (README: on the built-in scenes it helps every trained
// kind of question and not the held-out combinations).
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
  // model.head.point words: the words' summed scores over the patch grid [B,N] (row-major cells, x
  // fastest), before the softmax.
  torch::Tensor pointing_logits(const ModelOutput& output);

 private:
  // [B,2+D]: the expected grid position of the words' attention (x, y in [0,1]) and the patch
  // features it attends to.
  torch::Tensor pointed(const ModelOutput& output);
  // The words' summed scores over `patches` [B,N,D] -> [B,N].
  torch::Tensor word_scores(const torch::Tensor& patches, const ModelOutput& output);

  int64_t answers_ = 0, image_width_ = 0;
  bool point_words_ = false;
  torch::nn::Linear key_{nullptr}, word_query_{nullptr};  // point words
  torch::nn::Linear fc1_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear fc2_{nullptr};
};
TORCH_MODULE(VqaClassifier);

// The model's VQA head; throws ConfigError naming `what` when the model has none.
VqaClassifierImpl& vqa_head_of(MultimodalModelImpl& model, const std::string& what);

void register_vqa_head();

}  // namespace mmtrain
