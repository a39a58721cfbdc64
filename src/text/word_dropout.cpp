#include "mmtrain/text/word_dropout.h"

#include <sstream>

namespace mmtrain {

std::string drop_words(const std::string& text, double probability, SplitMix64& rng) {
  if (probability <= 0.0) return text;
  std::istringstream words(text);
  std::string word, kept;
  while (words >> word) {
    if (rng.uniform() < probability) continue;
    if (!kept.empty()) kept += ' ';
    kept += word;
  }
  return kept.empty() ? text : kept;
}

}  // namespace mmtrain
