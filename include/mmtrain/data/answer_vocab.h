// The answer vocabulary of a VQA classifier head: the most frequent normalised answers of the
// training data, and the soft targets VQA v2 models train on (an answer given by k of n annotators
// scores min(1, k / min(3, n)): VQA v2's min(k/3, 1) for its ten answers, 1 for one-answer data).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "mmtrain/data/dataset.h"

namespace mmtrain {

class AnswerVocab {
 public:
  AnswerVocab() = default;
  explicit AnswerVocab(std::vector<std::string> answers);

  // The `max_answers` answers given most often over the data set's samples (normalised as VQA v2's
  // evaluation does; every annotator's answer counts), ties broken in byte order. Throws DataError
  // naming the source when no sample has an answer.
  static AnswerVocab build(const PairDataset& dataset, int64_t max_answers);

  const std::vector<std::string>& answers() const { return answers_; }
  int64_t size() const { return static_cast<int64_t>(answers_.size()); }
  // Index of a normalised answer, -1 when it is not in the vocabulary.
  int64_t index_of(const std::string& normalised) const;
  // The vocabulary's answers to each question type of the data set (PairSample::question_type; ""
  // for rows without one), the types in byte order: for each, the indices of the answers its
  // samples give. Throws ConfigError naming model.head.answer_types when the data has more types
  // than `max_types`.
  std::vector<std::vector<int64_t>> answers_by_type(const PairDataset& dataset, int64_t max_types) const;
  // row [size()]: each answer's soft score for these annotators' answers (zeros without any).
  void fill_targets(const std::vector<std::string>& answers, float* row) const;

  // One answer per line (answers hold no newline: normalisation turns it into a space).
  std::string to_text() const;
  static AnswerVocab from_text(const std::string& text);

 private:
  std::vector<std::string> answers_;
  std::unordered_map<std::string, int64_t> index_;
};

// normalize_vqa_answer with line breaks as spaces: the form vocabulary entries and targets use.
std::string vocab_answer(const std::string& answer);

}  // namespace mmtrain
