#include "mmtrain/eval/caption_attributes.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream stream(text);
  std::vector<std::string> words;
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

AttributeGroup parse_group(const std::string& line, const std::string& where) {
  const auto colon = line.find(':');
  AttributeGroup group;
  if (colon != std::string::npos) {
    const auto name = split_words(line.substr(0, colon));
    if (name.size() == 1) group.name = name.front();
  }
  if (group.name.empty()) throw DataError(where + ": expected 'name: phrase|phrase|...', found '" + line + "'");
  std::stringstream rest(line.substr(colon + 1));
  for (std::string phrase; std::getline(rest, phrase, '|');) {
    auto words = split_words(phrase);
    if (!words.empty()) group.phrases.push_back(std::move(words));
  }
  if (group.phrases.empty()) throw DataError(where + ": attribute '" + group.name + "' lists no phrases");
  return group;
}

bool contains_run(const std::vector<std::string>& words, const std::vector<std::string>& phrase) {
  return std::search(words.begin(), words.end(), phrase.begin(), phrase.end()) != words.end();
}

}  // namespace

std::vector<AttributeGroup> read_attribute_groups(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  std::vector<AttributeGroup> groups;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    groups.push_back(parse_group(line, path + ":" + std::to_string(number)));
  }
  if (groups.empty()) throw DataError(path + ": no attribute groups");
  return groups;
}

std::vector<size_t> named_phrases(const AttributeGroup& group, const std::vector<std::string>& words) {
  std::vector<size_t> named;
  for (size_t p = 0; p < group.phrases.size(); ++p) {
    if (contains_run(words, group.phrases[p])) named.push_back(p);
  }
  return named;
}

bool same_attributes(const std::vector<AttributeGroup>& groups, const std::vector<std::string>& caption,
                     const std::vector<std::string>& reference) {
  return std::all_of(groups.begin(), groups.end(), [&](const AttributeGroup& group) {
    return named_phrases(group, caption) == named_phrases(group, reference);
  });
}

}  // namespace mmtrain
