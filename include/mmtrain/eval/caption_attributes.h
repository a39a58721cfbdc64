// Whether a generated caption names the same attributes as its reference: a caption is scored
// against groups of phrases ("colour: red|green|blue", "position: on the left|at the top"), and
// it is right when, in every group, it names exactly the phrases the reference names. What the
// built-in captioning task reports as "all four attributes right".
#pragma once

#include <string>
#include <vector>

namespace mmtrain {

struct AttributeGroup {
  std::string name;
  std::vector<std::vector<std::string>> phrases;  // each a sequence of words
};

// A file of lines "name: phrase|phrase|...", '#' comments and blank lines skipped. Throws
// DataError naming the file and line for a line without a name or phrases.
std::vector<AttributeGroup> read_attribute_groups(const std::string& path);

// The group's phrases that occur in `words` as whole-word runs, in group order.
std::vector<size_t> named_phrases(const AttributeGroup& group, const std::vector<std::string>& words);

// Every group names the same phrases in both (words as caption_words gives them).
bool same_attributes(const std::vector<AttributeGroup>& groups, const std::vector<std::string>& caption,
                     const std::vector<std::string>& reference);

}  // namespace mmtrain
