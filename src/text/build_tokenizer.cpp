#include "mmtrain/text/build_tokenizer.h"

#include <fstream>
#include <sstream>

#include "mmtrain/errors.h"
#include "mmtrain/text/clip_bpe_tokenizer.h"
#include "mmtrain/text/sentencepiece_tokenizer.h"

namespace mmtrain {

std::shared_ptr<const Tokenizer> tokenizer_from_bytes(const std::string& type, const std::string& bytes) {
  if (type == "sentencepiece") return load_sentencepiece(bytes);
  if (type == "clip_bpe") return load_clip_bpe(bytes);
  throw ConfigError("tokenizer.type: '" + type +
                    "' is not available in this build (valid: sentencepiece, clip_bpe)");
}

std::shared_ptr<const Tokenizer> build_tokenizer(const TokenizerConfig& config,
                                                 const std::vector<std::string>& captions, uint64_t seed) {
  if (!config.path.empty()) {
    std::ifstream in(config.path, std::ios::binary);
    if (!in) throw ConfigError("tokenizer.path: cannot read '" + config.path + "'");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    try {
      return tokenizer_from_bytes(config.type, bytes.str());
    } catch (const std::runtime_error& error) {
      throw ConfigError("tokenizer.path: '" + config.path + "' is not a " + config.type + " model: " + error.what());
    }
  }
  if (config.type != "sentencepiece") {
    throw ConfigError("tokenizer.path: required for tokenizer.type '" + config.type + "'");
  }
  if (config.vocab_size <= 0) {
    throw ConfigError("tokenizer.vocab_size: must be positive to train a tokenizer when tokenizer.path is empty");
  }
  return load_sentencepiece(train_sentencepiece(captions, config.vocab_size, seed, config.model_type));
}

}  // namespace mmtrain
