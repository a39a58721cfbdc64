#include "mmtrain/data/answer_vocab.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "mmtrain/errors.h"
#include "mmtrain/eval/vqa_metric.h"

namespace mmtrain {

std::string vocab_answer(const std::string& answer) {
  std::string out = normalize_vqa_answer(answer);
  std::replace(out.begin(), out.end(), '\n', ' ');
  std::replace(out.begin(), out.end(), '\r', ' ');
  return out;
}

AnswerVocab::AnswerVocab(std::vector<std::string> answers) : answers_(std::move(answers)) {
  for (size_t i = 0; i < answers_.size(); ++i) index_.emplace(answers_[i], static_cast<int64_t>(i));
}

AnswerVocab AnswerVocab::build(const PairDataset& dataset, int64_t max_answers) {
  std::map<std::string, int64_t> counts;
  for (const auto& sample : dataset.samples) {
    for (const auto& answer : sample.answers) ++counts[vocab_answer(answer)];
  }
  if (counts.empty()) throw DataError(dataset.source + ": no sample has an answer to build the answer vocabulary from");
  std::vector<std::pair<std::string, int64_t>> ranked(counts.begin(), counts.end());  // byte order
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (static_cast<int64_t>(ranked.size()) > max_answers) ranked.resize(static_cast<size_t>(max_answers));
  std::vector<std::string> answers;
  for (auto& [answer, count] : ranked) answers.push_back(std::move(answer));
  return AnswerVocab(std::move(answers));
}

int64_t AnswerVocab::index_of(const std::string& normalised) const {
  const auto it = index_.find(normalised);
  return it == index_.end() ? -1 : it->second;
}

std::vector<std::vector<int64_t>> AnswerVocab::answers_by_type(const PairDataset& dataset, int64_t max_types) const {
  std::map<std::string, std::set<int64_t>> by_type;
  for (const auto& sample : dataset.samples) {
    auto& answers = by_type[sample.question_type];
    for (const auto& answer : sample.answers) {
      const int64_t index = index_of(vocab_answer(answer));
      if (index >= 0) answers.insert(index);
    }
  }
  if (static_cast<int64_t>(by_type.size()) > max_types) {
    throw ConfigError("model.head.answer_types: " + std::to_string(max_types) + ", but " + dataset.source + " has " +
                      std::to_string(by_type.size()) + " question types");
  }
  std::vector<std::vector<int64_t>> out;
  for (const auto& [type, answers] : by_type) out.emplace_back(answers.begin(), answers.end());
  return out;
}

void AnswerVocab::fill_targets(const std::vector<std::string>& answers, float* row) const {
  std::fill(row, row + size(), 0.0f);
  if (answers.empty()) return;
  const double full = std::min<double>(3.0, static_cast<double>(answers.size()));  // matches for a score of 1
  for (const auto& answer : answers) {
    const int64_t index = index_of(vocab_answer(answer));
    if (index >= 0) row[index] = static_cast<float>(std::min(1.0, row[index] + 1.0 / full));
  }
}

std::string AnswerVocab::to_text() const {
  std::string text;
  for (const auto& answer : answers_) text += answer + "\n";
  return text;
}

AnswerVocab AnswerVocab::from_text(const std::string& text) {
  std::vector<std::string> answers;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) answers.push_back(line);
  return AnswerVocab(std::move(answers));
}

}  // namespace mmtrain
