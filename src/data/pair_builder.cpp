#include "pair_builder.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

bool is_blank(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c); });
}

}  // namespace

std::vector<std::string> split_comma_list(const std::string& keys) {
  std::vector<std::string> out;
  std::stringstream stream(keys);
  for (std::string key; std::getline(stream, key, ',');) {
    if (!key.empty()) out.push_back(key);
  }
  return out;
}

std::optional<std::vector<float>> numbers_member(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array() || it->empty()) return std::nullopt;
  std::vector<float> out;
  for (const auto& value : *it) {
    if (!value.is_number()) return std::nullopt;
    out.push_back(value.get<float>());
  }
  return out;
}

bool read_target(const nlohmann::json& object, std::vector<float>& target) {
  target.clear();
  if (!object.contains("target")) return true;
  auto numbers = numbers_member(object, "target");
  if (!numbers || numbers->size() != 2) return false;
  target = std::move(*numbers);
  return true;
}

const std::string* string_member(const nlohmann::json& object, const std::string& key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

std::string json_image_key(const PairSourceConfig& config) {
  return config.image_key == PairSourceConfig{}.image_key ? "image" : config.image_key;
}

bool append_strings(const nlohmann::json& value, std::vector<std::string>& out) {
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
    return true;
  }
  if (!value.is_array()) return false;
  for (const auto& item : value) {
    if (!item.is_string()) return false;
    out.push_back(item.get<std::string>());
  }
  return true;
}

nlohmann::json read_json_object(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json root = nlohmann::json::parse(text.str(), nullptr, false);
  if (root.is_discarded() || !root.is_object()) throw DataError(path + ": not a JSON object (" + what + " expected)");
  return root;
}

const nlohmann::json& required_list(const nlohmann::json& object, const char* key, const std::string& path,
                                    const std::string& what) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_array()) throw DataError(path + ": expected " + what + " with a \"" + key + "\" list");
  return *it;
}

PairBuilder::PairBuilder(const std::string& source, const std::string& image_root)
    : folder_(image_root.empty() ? std::filesystem::path(source).parent_path()
                                 : std::filesystem::path(image_root)) {
  dataset_.source = source;
}

std::string PairBuilder::resolve(const std::string& image) const {
  const std::filesystem::path path(image);
  return path.is_absolute() ? image : (folder_ / path).string();
}

void PairBuilder::add_bad(BadKind kind, int64_t line, const std::string& reason) {
  dataset_.bad.push_back({kind, dataset_.source + ":" + std::to_string(line), reason});
}

PairSample* PairBuilder::add(const std::string& image, std::vector<std::string> captions, int64_t line,
                             int64_t label) {
  if (image.empty()) return add_bad(BadKind::kBadRow, line, "empty image path"), nullptr;
  if (!is_valid_utf8(image)) return add_bad(BadKind::kBadUtf8, line, "image path is not valid UTF-8"), nullptr;
  const size_t given = captions.size();
  size_t invalid = 0;
  captions.erase(std::remove_if(captions.begin(), captions.end(),
                                [&](const std::string& caption) {
                                  if (!is_valid_utf8(caption)) return ++invalid, true;
                                  return is_blank(caption);
                                }),
                 captions.end());
  if (captions.empty() && given > 0) {
    invalid > 0 ? add_bad(BadKind::kBadUtf8, line, "caption is not valid UTF-8")
                : add_bad(BadKind::kEmptyCaption, line, "empty or whitespace caption");
    return nullptr;
  }
  dataset_.samples.push_back(pair_sample(resolve(image), std::move(captions), label, line));
  return &dataset_.samples.back();
}

PairDataset PairBuilder::finish() {
  if (!dataset_.bad.empty()) {
    std::map<std::string, int64_t> kinds;
    for (const auto& bad : dataset_.bad) ++kinds[bad_kind_name(bad.kind)];
    std::string summary;
    for (const auto& [kind, count] : kinds) summary += (summary.empty() ? "" : ", ") + std::to_string(count) + " " + kind;
    const auto& first = dataset_.bad.front();
    spdlog::warn("{}: skipped {} row(s) ({}); first: {}: {}", dataset_.source, dataset_.bad.size(),
                 summary, first.where, first.reason);
  }
  return std::move(dataset_);
}

}  // namespace mmtrain
