// Words of a text as word dropout sees them (space-separated), for the tests of what it keeps.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace mmtrain::test {

inline std::vector<std::string> words_of(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// Whether each word of `part` is found in `whole`, in order, each after the one before it.
inline bool words_in_order(const std::string& part, const std::string& whole) {
  size_t from = 0;
  for (const std::string& word : words_of(part)) {
    const size_t at = whole.find(word, from);
    if (at == std::string::npos) return false;
    from = at + word.size();
  }
  return true;
}

}  // namespace mmtrain::test
