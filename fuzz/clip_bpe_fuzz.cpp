// The CLIP BPE tokenizer: arbitrary bytes to encode (mode 0; every byte string is text it must
// take, ids inside the vocabulary), and arbitrary bytes as the gzip'ed merges file (mode 1).
// Mode 0 needs CLIP's vocabulary: $MMTRAIN_FUZZ_CLIP_VOCAB (scripts/fuzz.sh sets it).
#include <memory>

#include "fuzz_input.h"
#include "mmtrain/text/clip_bpe_tokenizer.h"
#include "mmtrain/text/tokenizer.h"

namespace {

const mmtrain::Tokenizer& clip_tokenizer() {
  static const std::unique_ptr<mmtrain::Tokenizer> tokenizer = [] {
    const char* path = std::getenv("MMTRAIN_FUZZ_CLIP_VOCAB");
    if (path == nullptr) {
      std::fprintf(stderr, "clip_bpe_fuzz: set MMTRAIN_FUZZ_CLIP_VOCAB to bpe_simple_vocab_16e6.txt.gz\n");
      std::exit(2);
    }
    return mmtrain::load_clip_bpe_file(path);
  }();
  return *tokenizer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mmtrain::fuzz::InputFile file(".txt.gz");
  const unsigned mode = mmtrain::fuzz::take_mode(data, size, 2);
  if (mode == 1) {
    const std::string& path = file.write(data, size);
    mmtrain::fuzz::expect_clear_refusal(path, [&] { mmtrain::load_clip_bpe_file(path); });
    return 0;
  }
  const auto& tokenizer = clip_tokenizer();
  const auto ids = tokenizer.encode(std::string(reinterpret_cast<const char*>(data), size));
  for (const int64_t id : ids) {
    if (id < 0 || id >= tokenizer.vocab_size()) {
      std::fprintf(stderr, "finding: id %lld outside the vocabulary\n", static_cast<long long>(id));
      std::abort();
    }
  }
  tokenizer.decode(ids);
  return 0;
}
