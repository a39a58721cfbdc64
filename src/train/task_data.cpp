#include "mmtrain/train/task_data.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "mmtrain/errors.h"
#include "mmtrain/heads/task_head.h"
#include "mmtrain/heads/vqa_head.h"

namespace mmtrain {

namespace {

HeadDescriptor descriptor_of_head(const HeadConfig& head) {
  register_builtin_heads();
  return head.type.empty() ? HeadDescriptor{} : head_registry().find(head.type, "model.head.type").descriptor;
}

const PairDataset& training_set(const TrainingData& data, const HeadConfig& head, const char* needs) {
  if (!data.dataset) throw ConfigError("data.train.type: the " + head.type + " head trains on " + needs);
  return *data.dataset;
}

const PairDataset& questions_set(const TrainingData& data, const HeadConfig& head) {
  return training_set(data, head, "question-answer data (vqa or vqa_v2)");
}

// The most frequent answers of the training data, built the same on every rank.
std::shared_ptr<const AnswerVocab> answer_vocabulary(const HeadConfig& head, const TrainingData& data) {
  auto vocab = std::make_shared<AnswerVocab>(AnswerVocab::build(questions_set(data, head), head.answers));
  std::string first;
  for (int64_t i = 0; i < std::min<int64_t>(8, vocab->size()); ++i) first += " " + vocab->answers()[static_cast<size_t>(i)];
  spdlog::info("answer vocabulary: {} answers for {} outputs (most frequent:{})", vocab->size(), head.answers, first);
  return vocab;
}

std::shared_ptr<const ActionSpace> action_space(const HeadConfig& head, const TrainingData& data) {
  auto space = std::make_shared<ActionSpace>(ActionSpace::build(training_set(data, head, "robot episodes (episodes)")));
  std::string ranges;
  for (int64_t d = 0; d < space->dims(); ++d) {
    ranges += fmt::format(" [{:.4g}, {:.4g}]", space->low()[static_cast<size_t>(d)], space->high()[static_cast<size_t>(d)]);
  }
  spdlog::info("action space: {} dimensions over{}; chunks of {} {}", space->dims(), ranges, head.chunk,
               head.bins > 0 ? fmt::format("in {} bins", head.bins) : std::string("continuous"));
  return space;
}

void resolve_dim(int& value, size_t from_data, const std::string& key) {
  const int found = static_cast<int>(from_data);
  if (value == 0) value = found;
  if (value != found) {
    throw ConfigError(key + ": " + std::to_string(value) + ", but the training episodes have " + std::to_string(found));
  }
}

}  // namespace

void resolve_action_dims(Config& config, const TrainingData& data) {
  auto& head = config.model.head;
  if (!descriptor_of_head(head).actions) return;
  const PairDataset& episodes = training_set(data, head, "robot episodes (episodes)");
  if (episodes.samples.empty() || episodes.samples.front().action.empty()) {
    throw ConfigError("data.train.type: " + config.data.train.type + " has no actions; the " + head.type +
                      " head trains on robot episodes (episodes)");
  }
  resolve_dim(head.action_dims, episodes.samples.front().action.size(), "model.head.action_dims");
  resolve_dim(head.state_dims, episodes.samples.front().state.size(), "model.head.state_dims");
}

void refuse_pointing_without_targets(const Config& config, const TrainingData& data) {
  const std::string term = config.model.head.type + "_point";
  const auto& terms = config.loss.terms;
  const bool points = std::any_of(terms.begin(), terms.end(), [&](const LossTerm& t) { return t.name == term; });
  if (!points || !data.dataset) return;
  const auto& samples = data.dataset->samples;
  if (std::any_of(samples.begin(), samples.end(), [](const PairSample& s) { return !s.target.empty(); })) return;
  throw ConfigError("loss.terms." + term + ": no row of " + config.data.train.path +
                    " has a \"target\" ([x, y] of the object the text names; `mmtrain data tabletop` and `mmtrain "
                    "data scenes` write it)");
}

TaskData build_task_data(const Config& config, const TrainingData& data, const CheckpointMeta* checkpoint) {
  const auto& head = config.model.head;
  const HeadDescriptor descriptor = descriptor_of_head(head);
  TaskData task;
  if (descriptor.answers) {
    task.answers = checkpoint && !checkpoint->answers.empty()
                       ? std::make_shared<AnswerVocab>(AnswerVocab::from_text(checkpoint->answers))
                       : answer_vocabulary(head, data);
  }
  if (descriptor.actions) {
    task.actions = checkpoint && !checkpoint->actions.empty()
                       ? std::make_shared<ActionSpace>(ActionSpace::from_text(checkpoint->actions))
                       : action_space(head, data);
    task.action_chunk = head.chunk;
  }
  return task;
}

void fill_answer_types(const Config& config, const TrainingData& data, const TaskData& task,
                       MultimodalModelImpl& model) {
  const int types = config.model.head.answer_types;
  if (types == 0 || !task.answers) return;
  const auto by_type = task.answers->answers_by_type(questions_set(data, config.model.head), types);
  vqa_head_of(model, "model.head.answer_types").set_answer_types(by_type);
  spdlog::info("answer types: {} question types of the training data group the answers", by_type.size());
}

void store_task_data(const TaskData& task, CheckpointMeta& meta) {
  if (task.answers) meta.answers = task.answers->to_text();
  if (task.actions) meta.actions = task.actions->to_text();
}

}  // namespace mmtrain
