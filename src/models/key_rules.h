// Renaming state_dict keys between open_clip's names and ours by a table of rules: exact names and
// prefixes, the first match winning. Internal to src/models (open_clip.cpp, open_clip_coca.cpp).
#pragma once

#include <string>

namespace mmtrain {

struct KeyRule {
  const char* theirs;
  const char* ours;
  bool prefix;
};

// `key` renamed by the first rule that matches it (theirs -> ours, or back), "" when none does.
template <size_t N>
std::string renamed_key(const std::string& key, const KeyRule (&rules)[N], bool to_ours) {
  for (const auto& rule : rules) {
    const std::string from = to_ours ? rule.theirs : rule.ours;
    const std::string to = to_ours ? rule.ours : rule.theirs;
    if (!rule.prefix && key == from) return to;
    if (rule.prefix && key.rfind(from, 0) == 0) return to + key.substr(from.size());
  }
  return "";
}

}  // namespace mmtrain
