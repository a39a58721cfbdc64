// Question-answer data: JSONL rows and VQA v2's published questions and annotations files.
#include <fstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "pair_builder.h"

namespace mmtrain {

using nlohmann::json;

namespace {

void add_vqa_line(const std::string& line, int64_t number, const PairSourceConfig& config, PairBuilder& builder) {
  if (!is_valid_utf8(line)) return builder.add_bad(BadKind::kBadUtf8, number, "line is not valid UTF-8");
  const json object = json::parse(line, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return builder.add_bad(BadKind::kBadRow, number, "expected a JSON object");
  const std::string image_key = json_image_key(config);
  const std::string* image = string_member(object, image_key);
  const std::string* question = string_member(object, config.question_key);
  if (!image || !question) {
    return builder.add_bad(BadKind::kBadRow, number,
                           "expected strings under \"" + image_key + "\" and \"" + config.question_key + "\"");
  }
  std::vector<std::string> answers;
  const auto value = object.find(config.answer_key);
  if (value != object.end() && !append_strings(*value, answers)) {
    return builder.add_bad(BadKind::kBadRow, number, "\"" + config.answer_key + "\": expected a string or a list of strings");
  }
  std::vector<float> target;
  if (!read_target(object, target)) {
    return builder.add_bad(BadKind::kBadRow, number,
                           "\"target\" must be the place of the object the question is about, [x, y] in [0,1]");
  }
  PairSample* sample = builder.add(*image, {*question}, number);
  if (!sample) return;
  sample->answers = std::move(answers);
  sample->target = std::move(target);
  if (const std::string* type = string_member(object, "question_type")) sample->question_type = *type;
}

// question_id -> (answers, answer_type) from VQA v2's annotations file.
struct Annotation {
  std::vector<std::string> answers;
  std::string answer_type;
};

std::unordered_map<int64_t, Annotation> read_vqa_annotations(const std::string& path) {
  const json root = read_json_object(path, "VQA v2 annotations");
  std::unordered_map<int64_t, Annotation> out;
  int64_t index = 0;
  for (const auto& entry : required_list(root, "annotations", path, "VQA v2 annotations")) {
    ++index;
    const auto id = entry.find("question_id");
    const auto answers = entry.find("answers");
    if (id == entry.end() || !id->is_number_integer() || answers == entry.end() || !answers->is_array()) {
      throw DataError(fmt::format("{}: annotation {}: expected an integer question_id and an answers list", path, index));
    }
    Annotation annotation;
    for (const auto& answer : *answers) {
      const std::string* text = answer.is_object() ? string_member(answer, "answer") : nullptr;
      if (!text) throw DataError(fmt::format("{}: annotation {}: each answer needs an \"answer\" string", path, index));
      annotation.answers.push_back(*text);
    }
    if (const std::string* type = string_member(entry, "answer_type")) annotation.answer_type = *type;
    out[id->get<int64_t>()] = std::move(annotation);
  }
  return out;
}

}  // namespace

PairDataset read_vqa_jsonl(const PairSourceConfig& config) {
  std::ifstream in(config.path);
  if (!in) throw DataError(config.path + ": cannot open");
  PairBuilder builder(config.path, config.image_root);
  int64_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") != std::string::npos) add_vqa_line(line, number, config, builder);
  }
  return builder.finish();
}

PairDataset read_vqa_v2(const PairSourceConfig& config) {
  const json root = read_json_object(config.path, "VQA v2 questions");
  const std::string* subtype = string_member(root, "data_subtype");
  if (!subtype) throw DataError(config.path + ": expected a \"data_subtype\" string (e.g. \"val2014\") naming the COCO images");
  const auto annotations = config.annotations.empty() ? std::unordered_map<int64_t, Annotation>{}
                                                      : read_vqa_annotations(config.annotations);
  PairBuilder builder(config.path, config.image_root);
  int64_t index = 0;
  for (const auto& entry : required_list(root, "questions", config.path, "VQA v2 questions")) {
    ++index;  // questions have no line; their position in the list stands in for it
    const auto image_id = entry.find("image_id");
    const auto question_id = entry.find("question_id");
    const std::string* question = string_member(entry, "question");
    if (image_id == entry.end() || !image_id->is_number_integer() || question_id == entry.end() ||
        !question_id->is_number_integer() || !question) {
      builder.add_bad(BadKind::kBadRow, index, "question without integer image_id and question_id and a question string");
      continue;
    }
    const int64_t id = question_id->get<int64_t>();
    const auto annotation = annotations.find(id);
    if (!config.annotations.empty() && annotation == annotations.end()) {
      builder.add_bad(BadKind::kUnpaired, index, "question_id " + std::to_string(id) + " has no annotation");
      continue;
    }
    const std::string image = fmt::format("COCO_{}_{:012d}.jpg", *subtype, image_id->get<int64_t>());
    PairSample* sample = builder.add(image, {*question}, index);
    if (!sample) continue;
    sample->question_id = id;
    if (annotation != annotations.end()) {
      sample->answers = annotation->second.answers;
      sample->question_type = annotation->second.answer_type;
    }
  }
  return builder.finish();
}

}  // namespace mmtrain
