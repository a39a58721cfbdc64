// What every map-style pair reader shares: resolving image paths, and turning a record into a
// sample or into a counted bad sample (empty image path, empty caption, invalid UTF-8).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mmtrain/data/dataset.h"

namespace mmtrain {

// "title,alt" -> {"title", "alt"}, empty items dropped: caption keys naming several columns or
// JSON keys, WebDataset's image extensions.
std::vector<std::string> split_comma_list(const std::string& text);

// A JSON value holding one string or a list of strings (captions, answers), appended to `out`;
// false when it is neither.
bool append_strings(const nlohmann::json& value, std::vector<std::string>& out);

// object[key] when it is a string, else null.
const std::string* string_member(const nlohmann::json& object, const std::string& key);
// object[key] when it is a non-empty list of numbers, else nullopt.
std::optional<std::vector<float>> numbers_member(const nlohmann::json& object, const char* key);
// The optional "target" of a JSON-lines row (vqa, episodes): where the object the text names is,
// [x, y] in [0,1] over the image. Empty when absent; false when present but not two numbers.
bool read_target(const nlohmann::json& object, std::vector<float>& target);
// The image key of a JSON-lines row (vqa, episodes): image_key when set, else "image" (the generic
// default "filepath" is CSV's column name, not these rows' key).
std::string json_image_key(const PairSourceConfig& config);

// A JSON file whose top level is an object; DataError naming the file and `what` was expected
// otherwise (COCO captions annotations, VQA v2 questions, ...).
nlohmann::json read_json_object(const std::string& path, const std::string& what);
// object[key] when it is a list; DataError "<path>: expected <what> with a "<key>" list" otherwise.
const nlohmann::json& required_list(const nlohmann::json& object, const char* key, const std::string& path,
                                    const std::string& what);

class PairBuilder {
 public:
  // Relative image paths resolve against image_root, or the source file's folder when empty.
  PairBuilder(const std::string& source, const std::string& image_root);

  std::string resolve(const std::string& image) const;
  // The sample added, or null when the record was a bad sample (counted).
  PairSample* add(const std::string& image, std::vector<std::string> captions, int64_t line, int64_t label = -1);
  void add_bad(BadKind kind, int64_t line, const std::string& reason);
  // Logs a summary of what was skipped and hands the data set over.
  PairDataset finish();

 private:
  PairDataset dataset_;
  std::filesystem::path folder_;
};

}  // namespace mmtrain
