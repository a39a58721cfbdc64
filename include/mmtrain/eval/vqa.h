// Visual question answering with a model's vqa head: every question of a set answered (the most
// likely answer of the vocabulary), scored with VQA v2's accuracy (eval/vqa_metric.h) overall and
// per question type; eval.vqa and `mmtrain vqa`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmtrain/eval/embed.h"
#include "mmtrain/eval/evaluate.h"

namespace mmtrain {

struct VqaAnswer {
  int64_t row = 0;  // index into the question set
  std::string answer;
  double accuracy = 0.0;  // 0 when the question has no reference answers
};

// Answers in the set's order. With `blank_images` every image is the mean image (zero after
// normalisation): the question-only baseline. Throws ConfigError when the model has no vqa head or
// the context no answer vocabulary.
std::vector<VqaAnswer> answer_questions(EmbedContext& context, std::shared_ptr<const PairDataset> questions,
                                        bool blank_images = false);

// "<prefix>accuracy" and "<prefix><question type>" over the questions that have reference answers.
Metrics vqa_metrics(const PairDataset& questions, const std::vector<VqaAnswer>& answers, const std::string& prefix);

struct VqaEvalResult {
  Metrics metrics;  // vqa/accuracy, vqa/<type>, and vqa/question_only when asked
  std::shared_ptr<const PairDataset> questions;
  std::vector<VqaAnswer> answers;  // with the images, in the set's order
};

VqaEvalResult evaluate_vqa(EmbedContext& context, const VqaEvalConfig& config);

}  // namespace mmtrain
