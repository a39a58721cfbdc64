// Choosing the tokenizer from the config: a model file given by path, or one trained from the
// training captions; and rebuilding one from the bytes a checkpoint carries.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/text/tokenizer.h"

namespace mmtrain {

// Reads tokenizer.path, or trains a SentencePiece model of tokenizer.vocab_size on `captions`.
// Throws ConfigError when neither is possible.
std::shared_ptr<const Tokenizer> build_tokenizer(const TokenizerConfig& config,
                                                 const std::vector<std::string>& captions, uint64_t seed);

std::shared_ptr<const Tokenizer> tokenizer_from_bytes(const std::string& type, const std::string& bytes);

}  // namespace mmtrain
