#include "mmtrain/text/tokenizer.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace mmtrain {

void tokenize_into(const Tokenizer& tokenizer, const std::string& text, int context_length,
                   int64_t* out) {
  // BOS and EOS are always written, so shorter contexts cannot hold a caption at all.
  if (context_length < 2) {
    throw std::invalid_argument("tokenize_into: context_length must be at least 2, got " +
                                std::to_string(context_length));
  }
  const std::vector<int64_t> ids = tokenizer.encode(text);
  const size_t kept = std::min(ids.size(), static_cast<size_t>(context_length) - 2);
  int64_t* cursor = out;
  *cursor++ = tokenizer.bos_id();
  cursor = std::copy_n(ids.begin(), kept, cursor);
  *cursor++ = tokenizer.eos_id();
  std::fill(cursor, out + context_length, tokenizer.pad_id());
}

}  // namespace mmtrain
