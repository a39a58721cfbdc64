// The VQA classifier head: the fusion's joint representation of (image, question) scored over an
// answer vocabulary (data/answer_vocab.h), as ViLT and ALBEF's classifier variants do:
// Linear(W, 2W), LayerNorm, GELU, Linear(2W, model.head.answers). Needs a fused type (early or
// cross_attention); trained by the vqa (soft binary cross-entropy) or vqa_ce loss term.
// With model.head.point words the classifier also reads where the question's words point: each
// word of the text tower scores every patch of the vision tower (Linear(Dt, D) of the word against
// Linear(D, D) of the patch), the scores add up over the words, and a softmax over the patches
// gives the expected grid position and the attended features, [B,2+D], beside the joint
// representation (Linear(W + 2 + D, 2W) first). The vqa_point loss term trains that attention to
// fall on the object the question is about (README: on the built-in scenes, alone, it helps every
// trained kind of question and not the held-out combinations; with answer types, both).
// With model.head.answer_types N the answers are grouped by the question types training asked them
// for (a [N,A] membership the trainer fills from the data, kept with the weights): a bag of the
// question's words (an embedding of each token to N type scores, summed over the words) gives
// p(type | question), a softmax over each type's answers gives p(answer | type), and the head
// returns log sum_type p(type | question) p(answer | type), [B,A] log-probabilities, for the vqa_ce
// term. The type follows the words that always came with it, "colour" in "what colour is the
// triangle?", however rarely training named that object in that kind of question.
#pragma once

#include <vector>

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "mmtrain/heads/task_head.h"

namespace mmtrain {

class VqaClassifierImpl : public TaskHeadImpl {
 public:
  VqaClassifierImpl(const HeadConfig& config, const HeadDims& dims);
  // The model's outputs (ModelOutput::fused [B,W]) -> answer logits [B,A] float32 (with answer
  // types: log-probabilities).
  torch::Tensor forward(const ModelOutput& output) override;
  bool reads_tokens() const override { return true; }
  bool reads_fused() const override { return true; }
  int64_t answers() const { return answers_; }
  // model.head.point words: the words' summed scores over the patch grid [B,N] (row-major cells, x
  // fastest), before the softmax.
  torch::Tensor pointing_logits(const ModelOutput& output);
  // model.head.answer_types: type t's answers are the vocabulary indices answers_by_type[t]
  // (AnswerVocab::answers_by_type); types past its size have none and are never chosen.
  void set_answer_types(const std::vector<std::vector<int64_t>>& answers_by_type);

 private:
  // [B,2+D]: the expected grid position of the words' attention (x, y in [0,1]) and the patch
  // features it attends to.
  torch::Tensor pointed(const ModelOutput& output);
  // The words' summed scores over `patches` [B,N,D] -> [B,N].
  torch::Tensor word_scores(const torch::Tensor& patches, const ModelOutput& output);

  // Answer logits [B,A] -> log sum_type p(type | question words) p(answer | type) [B,A].
  torch::Tensor typed(const torch::Tensor& logits, const ModelOutput& output);

  int64_t answers_ = 0, image_width_ = 0, types_ = 0, pad_id_ = 0;
  bool point_words_ = false;
  torch::nn::Embedding type_words_{nullptr};  // answer types: each token's score for each type
  torch::Tensor type_answers_;                // answer types: [N,A] 1 where the type has the answer
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
