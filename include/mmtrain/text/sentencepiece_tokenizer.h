// SentencePiece tokenizers: training a model from captions and loading one from bytes.
// SentencePiece runs in its own link namespace (dlmopen), invisible to callers: see the .cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmtrain/text/tokenizer.h"

namespace mmtrain {

// SentencePiece's model types: unigram, bpe, word, char.
const std::vector<std::string>& sentencepiece_model_types();

// Ids fixed for every model we train: pad 0, unk 1, bos 2, eos 3.
// Trains a model of `model_type` on `captions` and returns the model file's bytes. The vocabulary
// may come out smaller than vocab_size when the captions do not have that many pieces. On a few
// short phrasings repeated many times, unigram's pruning ends near single characters, where bpe
// keeps whole words.
std::string train_sentencepiece(const std::vector<std::string>& captions, int vocab_size,
                                uint64_t seed, const std::string& model_type = "unigram");

// Throws std::runtime_error when the bytes are not a SentencePiece model.
std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model_bytes);

}  // namespace mmtrain
