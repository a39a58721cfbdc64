#include "mmtrain/eval/vqa.h"

#include "mmtrain/data/loader.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/vqa_metric.h"
#include "mmtrain/heads/vqa_head.h"

namespace mmtrain {

std::vector<VqaAnswer> answer_questions(EmbedContext& context, std::shared_ptr<const PairDataset> questions,
                                        bool blank_images) {
  auto& head = vqa_head_of(*context.model, "answering questions");
  if (!context.answers || context.answers->size() == 0) {
    throw ConfigError("answering questions: the checkpoint has no answer vocabulary (was it trained with model.head.type vqa?)");
  }
  const AnswerVocab& vocab = *context.answers;
  TORCH_CHECK(vocab.size() <= head.answers(), "answer vocabulary of ", vocab.size(), " for ", head.answers(), " outputs");
  const auto dataset = questions;
  Loader loader(std::move(questions), context.tokenizer, eval_loader_options(context));
  loader.start_epoch(0);
  torch::NoGradGuard no_grad;
  context.model->eval();
  std::vector<VqaAnswer> answers;
  while (auto batch = loader.next()) {
    auto images = batch->images.to(context.device);
    if (blank_images) images.zero_();
    const ModelOutput output = context.model->forward(images, batch->tokens.to(context.device));
    const auto best = head.forward(output).narrow(1, 0, vocab.size()).argmax(1).to(torch::kCPU);  // [B]
    const auto best_index = best.accessor<int64_t, 1>();
    const auto rows = batch->ids.accessor<int64_t, 1>();
    for (int64_t i = 0; i < best.size(0); ++i) {
      VqaAnswer answer;
      answer.row = rows[i];
      answer.answer = vocab.answers()[static_cast<size_t>(best_index[i])];
      const auto& references = dataset->samples[static_cast<size_t>(answer.row)].answers;
      if (!references.empty()) answer.accuracy = vqa_accuracy(answer.answer, references);
      answers.push_back(std::move(answer));
    }
  }
  return answers;
}

Metrics vqa_metrics(const PairDataset& questions, const std::vector<VqaAnswer>& answers, const std::string& prefix) {
  std::vector<VqaQuestionResult> results;
  for (const auto& answer : answers) {
    const PairSample& sample = questions.samples[static_cast<size_t>(answer.row)];
    if (!sample.answers.empty()) results.push_back({sample.question_type, answer.accuracy});
  }
  if (results.empty()) return {};
  const VqaScores scores = aggregate_vqa(results);
  Metrics metrics{{prefix + "accuracy", scores.overall}};
  for (const auto& [type, accuracy] : scores.per_type) {
    if (!type.empty()) metrics[prefix + type] = accuracy;
  }
  return metrics;
}

VqaEvalResult evaluate_vqa(EmbedContext& context, const VqaEvalConfig& config) {
  VqaEvalResult result;
  auto questions = std::make_shared<PairDataset>(read_pair_source(config, "eval.vqa"));
  if (questions->samples.empty()) throw DataError(config.path + ": no questions");
  result.questions = questions;
  result.answers = answer_questions(context, questions);
  result.metrics = vqa_metrics(*questions, result.answers, "vqa/");
  if (result.metrics.empty()) throw DataError(config.path + ": no question has reference answers to score against");
  if (config.question_only) {
    const auto blind = answer_questions(context, questions, /*blank_images=*/true);
    result.metrics["vqa/question_only"] = vqa_metrics(*questions, blind, "vqa/").at("vqa/accuracy");
  }
  return result;
}

}  // namespace mmtrain
