// Filling caption templates for the built-in data sets: placeholder substitution and the English
// article before a vowel. Internal to src/data.
#pragma once

#include <string>

namespace mmtrain {

inline void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// "a orange" -> "an orange", wherever a template put the article.
inline std::string fix_articles(std::string text) {
  text.insert(0, " ");
  for (char vowel : std::string("aeiou")) {
    replace_all(text, std::string(" a ") + vowel, std::string(" an ") + vowel);
  }
  return text.substr(1);
}

}  // namespace mmtrain
