// The JSON-based pair sources (JSONL, COCO captions), the image-folder zero-shot source, and the
// dispatch by config type.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "pair_builder.h"

namespace mmtrain {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// One JSONL line into the builder, or a counted bad row saying what was wrong.
void add_jsonl_line(const std::string& line, int64_t number, const std::string& image_key,
                    const std::vector<std::string>& caption_keys, PairBuilder& builder) {
  if (!is_valid_utf8(line)) return builder.add_bad(BadKind::kBadUtf8, number, "line is not valid UTF-8");
  const json object = json::parse(line, nullptr, false);
  if (object.is_discarded()) return builder.add_bad(BadKind::kBadRow, number, "not valid JSON");
  if (!object.is_object()) return builder.add_bad(BadKind::kBadRow, number, "expected a JSON object");
  const auto image = object.find(image_key);
  if (image == object.end() || !image->is_string()) {
    return builder.add_bad(BadKind::kBadRow, number, "expected a string under \"" + image_key + "\"");
  }
  std::vector<std::string> captions;
  for (const auto& key : caption_keys) {
    const auto value = object.find(key);
    if (value != object.end() && !append_strings(*value, captions)) {
      return builder.add_bad(BadKind::kBadRow, number,
                             "\"" + key + "\": expected a string or a list of strings");
    }
  }
  builder.add(image->get<std::string>(), std::move(captions), number);
}

}  // namespace

PairDataset read_pair_jsonl(const std::string& path, const std::string& image_key,
                            const std::string& caption_key, const std::string& image_root) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  const auto caption_keys = split_comma_list(caption_key);
  PairBuilder builder(path, image_root);
  int64_t number = 0;
  int64_t with_caption_key = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    for (const auto& key : caption_keys) {
      if (line.find("\"" + key + "\"") != std::string::npos) {
        ++with_caption_key;
        break;
      }
    }
    add_jsonl_line(line, number, image_key, caption_keys, builder);
  }
  if (number > 0 && with_caption_key == 0) {
    throw DataError(path + ": no line has the caption key \"" + caption_key +
                    "\" (set data.train.caption_key to the key holding captions)");
  }
  return builder.finish();
}

PairDataset read_coco_captions(const std::string& path, const std::string& image_root) {
  const std::string what = "COCO captions annotations";
  const json root = read_json_object(path, what);
  std::unordered_map<int64_t, std::string> file_names;
  for (const auto& image : required_list(root, "images", path, what)) {
    if (image.contains("id") && image.contains("file_name") && image["file_name"].is_string()) {
      file_names[image["id"].get<int64_t>()] = image["file_name"].get<std::string>();
    }
  }
  PairBuilder builder(path, image_root);
  int64_t index = 0;
  for (const auto& annotation : required_list(root, "annotations", path, what)) {
    ++index;  // annotations have no line; their position in the list stands in for it
    const auto image_id = annotation.find("image_id");
    const auto caption = annotation.find("caption");
    if (image_id == annotation.end() || !image_id->is_number_integer() || caption == annotation.end() ||
        !caption->is_string()) {
      builder.add_bad(BadKind::kBadRow, index, "annotation without an integer image_id and a caption string");
      continue;
    }
    const auto file = file_names.find(image_id->get<int64_t>());
    if (file == file_names.end()) {
      builder.add_bad(BadKind::kUnpaired, index, "image_id " + std::to_string(image_id->get<int64_t>()) + " is not in \"images\"");
      continue;
    }
    builder.add(file->second, {caption->get<std::string>()}, index);
  }
  return builder.finish();
}

PairDataset read_pair_source(const PairSourceConfig& config, const std::string& key) {
  if (config.path.empty()) throw ConfigError(key + ".path: required");
  if (config.type == "csv") {
    return read_pair_csv(config.path, config.image_key, config.caption_key, config.separator[0], config.image_root);
  }
  if (config.type == "jsonl") return read_pair_jsonl(config.path, config.image_key, config.caption_key, config.image_root);
  if (config.type == "coco") return read_coco_captions(config.path, config.image_root);
  if (config.type == "vqa") return read_vqa_jsonl(config);
  if (config.type == "vqa_v2") return read_vqa_v2(config);
  if (config.type == "episodes") return read_episodes(config);
  throw ConfigError(key + ".type: " + config.type + " is a stream; this reads csv, jsonl, coco, vqa, vqa_v2 or episodes");
}

namespace {

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* const kExtensions[] = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"};
  return std::any_of(std::begin(kExtensions), std::end(kExtensions), [&](const char* e) { return ext == e; });
}

std::vector<fs::path> sorted_entries(const fs::path& folder, bool directories) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (directories ? entry.is_directory() : (entry.is_regular_file() && is_image_file(entry.path()))) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

ZeroShotSet read_image_folder(const ZeroShotConfig& config) {
  const fs::path root(config.path);
  if (!fs::is_directory(root)) throw DataError(config.path + ": not a folder (eval.zeroshot.type image_folder expects one sub-folder per class)");
  const auto classes = sorted_entries(root, true);
  if (classes.empty()) throw DataError(config.path + ": no class sub-folders");
  ZeroShotSet set;
  if (!config.classnames.empty()) {
    set.classnames = read_lines(config.classnames);
    if (set.classnames.size() != classes.size()) {
      throw DataError(config.classnames + ": " + std::to_string(set.classnames.size()) + " class names for " +
                      std::to_string(classes.size()) + " sub-folders of " + config.path + " (one per folder, in sorted order)");
    }
  } else {
    for (const auto& folder : classes) {
      std::string name = folder.filename().string();
      std::replace(name.begin(), name.end(), '_', ' ');
      set.classnames.push_back(name);
    }
  }
  set.images.source = config.path;
  for (size_t label = 0; label < classes.size(); ++label) {
    for (const auto& file : sorted_entries(classes[label], false)) {
      set.images.samples.push_back(pair_sample(file.string(), {}, static_cast<int64_t>(label), 0));
    }
  }
  if (set.images.samples.empty()) throw DataError(config.path + ": no images in the class sub-folders");
  return set;
}

}  // namespace

ZeroShotSet read_zero_shot_source(const ZeroShotConfig& config) {
  if (config.type == "image_folder") return read_image_folder(config);
  ZeroShotSet set;
  if (config.classnames.empty()) throw ConfigError("eval.zeroshot.classnames: required for type csv");
  set.classnames = read_lines(config.classnames);
  set.images = read_labelled_csv(config.path, config.image_key, config.label_key, config.separator[0]);
  return set;
}

}  // namespace mmtrain
