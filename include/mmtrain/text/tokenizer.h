// Tokenizer: captions to fixed-length id sequences (BOS, ids, EOS, padding), whatever the model
// behind it. The padding id marks padding everywhere (the text tower's pad mask is ids != pad_id).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mmtrain {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of `text` without BOS/EOS. Thread-safe: loader workers share one tokenizer.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t bos_id() const = 0;
  virtual int64_t eos_id() const = 0;
  virtual int64_t pad_id() const = 0;
  virtual std::string type() const = 0;
  // The model file's bytes: stored in checkpoints so that a checkpoint needs nothing else.
  virtual const std::string& model_bytes() const = 0;
};

// Writes BOS, encode(text), EOS, then pad_id up to context_length into out[0..context_length).
// A caption that does not fit is truncated and still ends with EOS.
void tokenize_into(const Tokenizer& tokenizer, const std::string& text, int context_length,
                   int64_t* out);

}  // namespace mmtrain
