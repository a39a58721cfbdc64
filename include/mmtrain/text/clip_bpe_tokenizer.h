// OpenAI CLIP's byte-level BPE tokenizer, id for id as open_clip's SimpleTokenizer (3.3) with
// ftfy taken as the identity, so that pretrained CLIP text towers see the ids they were trained on.
// Vocabulary 49408: the 512 byte symbols, one per merge, then <start_of_text> (BOS 49406) and
// <end_of_text> (EOS 49407); padding is 0, as open_clip pads. Where encoding can differ from
// open_clip's (ftfy, rare HTML entities) is listed in the .cpp.
#pragma once

#include <memory>
#include <string>

#include "mmtrain/text/tokenizer.h"

namespace mmtrain {

// `gz_bytes` are the bytes of bpe_simple_vocab_16e6.txt.gz as open_clip and CLIP ship it; the
// tokenizer keeps them as its model_bytes(). Throws std::runtime_error when they are not a
// gzip-compressed CLIP merges file.
std::unique_ptr<Tokenizer> load_clip_bpe(const std::string& gz_bytes);

// Throws std::runtime_error naming `path` when it cannot be read or is not a CLIP vocabulary.
std::unique_ptr<Tokenizer> load_clip_bpe_file(const std::string& path);

}  // namespace mmtrain
