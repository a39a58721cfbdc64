// The only code linked against SentencePiece. Debian's libsentencepiece carries its own
// protobuf-lite, which clashes with the one LibTorch needs, so mmtrain loads this library with
// dlmopen() into a private link namespace (src/text/sentencepiece_tokenizer.cpp). That namespace
// has its own C++ runtime and heap, hence the plain C interface: no C++ object, exception or
// heap block ever crosses it; results go into buffers the caller owns.
//
// Conventions: functions that can fail take (err, err_cap) and write a NUL-terminated message
// there. Functions that fill a caller buffer return the size they need; when that exceeds the
// capacity nothing is written and the caller retries with a larger buffer.

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#define MMTRAIN_SPM_API extern "C" __attribute__((visibility("default")))

namespace {

struct Model {
  std::string bytes;
  sentencepiece::SentencePieceProcessor processor;
};

void write_error(const std::string& message, char* err, size_t err_cap) {
  if (err == nullptr || err_cap == 0) return;
  const size_t n = std::min(message.size(), err_cap - 1);
  std::memcpy(err, message.data(), n);
  err[n] = '\0';
}

// Runs `body` and turns any exception into an error message and `on_error`, so that nothing
// unwinds into the caller's link namespace.
template <typename Body, typename Result>
Result guarded(Body&& body, Result on_error, char* err, size_t err_cap) {
  try {
    return body();
  } catch (const std::exception& e) {
    write_error(e.what(), err, err_cap);
  } catch (...) {
    write_error("unknown exception in the SentencePiece shim", err, err_cap);
  }
  return on_error;
}

class StatusError : public std::exception {
 public:
  explicit StatusError(const sentencepiece::util::Status& status) : message_(status.ToString()) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

void check(const sentencepiece::util::Status& status) {
  if (!status.ok()) throw StatusError(status);
}

class CaptionIterator : public sentencepiece::SentenceIterator {
 public:
  CaptionIterator(const char* const* captions, const size_t* lengths, size_t count)
      : captions_(captions), lengths_(lengths), count_(count) {
    load_current();
  }
  bool done() const override { return index_ >= count_; }
  void Next() override {
    ++index_;
    load_current();
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void load_current() {
    if (!done()) current_.assign(captions_[index_], lengths_[index_]);
  }

  const char* const* captions_;
  const size_t* lengths_;
  size_t count_;
  size_t index_ = 0;
  std::string current_;
};

// SentencePiece's seed is a 32-bit global in which all ones means "unset, use random_device".
// With training_args() below, SentencePiece 0.1.97 draws no random numbers while training, so
// the seed is set only so that a future version or flag that samples stays reproducible.
unsigned int fold_seed(unsigned long long seed) {
  const auto folded = static_cast<unsigned int>(seed ^ (seed >> 32));
  return folded == std::numeric_limits<unsigned int>::max() ? 0u : folded;
}

std::string training_args(const char* model_type, int vocab_size) {
  // All captions are used (input_sentence_size=0), so nothing is sampled, and one thread keeps
  // the EM sums in a fixed order: the model bytes depend only on the captions, type and size.
  // minloglevel=1 keeps warnings but drops the trainer's hundreds of progress lines.
  return std::string("--model_type=") + model_type + " --vocab_size=" + std::to_string(vocab_size) +
         " --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3"
         " --hard_vocab_limit=false --character_coverage=1.0"
         " --input_sentence_size=0 --num_threads=1 --minloglevel=1";
}

std::unique_ptr<Model> load_model(std::string bytes) {
  auto model = std::make_unique<Model>();
  model->bytes = std::move(bytes);
  check(model->processor.LoadFromSerializedProto(model->bytes));
  return model;
}

template <typename Source, typename T>
size_t copy_out(const Source& source, T* out, size_t cap) {
  if (source.size() <= cap) std::copy(source.begin(), source.end(), out);
  return source.size();
}

}  // namespace

// Trains a model of `model_type` (unigram, bpe, word or char; the caller checks it) on `count`
// captions (captions[i] has lengths[i] bytes, no terminator needed) and returns it loaded, or null
// on failure.
MMTRAIN_SPM_API void* spm_train(const char* const* captions, const size_t* lengths, size_t count,
                                const char* model_type, int vocab_size, unsigned long long seed,
                                char* err, size_t err_cap) {
  return guarded(
      [&]() -> void* {
        // The seed and the log level are process-wide settings of SentencePiece.
        static std::mutex training_mutex;
        std::lock_guard<std::mutex> lock(training_mutex);
        sentencepiece::SetRandomGeneratorSeed(fold_seed(seed));
        CaptionIterator iterator(captions, lengths, count);
        std::string bytes;
        check(sentencepiece::SentencePieceTrainer::Train(training_args(model_type, vocab_size), &iterator,
                                                         &bytes));
        return load_model(std::move(bytes)).release();
      },
      static_cast<void*>(nullptr), err, err_cap);
}

// Returns the model serialized in `bytes`, or null when they are not a SentencePiece model.
MMTRAIN_SPM_API void* spm_load(const char* bytes, size_t len, char* err, size_t err_cap) {
  return guarded([&]() -> void* { return load_model(std::string(bytes, len)).release(); },
                 static_cast<void*>(nullptr), err, err_cap);
}

MMTRAIN_SPM_API void spm_free(void* model) { delete static_cast<Model*>(model); }

// The model file's bytes.
MMTRAIN_SPM_API size_t spm_model_bytes(const void* model, char* out, size_t cap) {
  return copy_out(static_cast<const Model*>(model)->bytes, out, cap);
}

// Ids of `text` (no BOS/EOS), or -1 on failure. Safe to call concurrently on one model.
MMTRAIN_SPM_API long long spm_encode(const void* model, const char* text, size_t len, int64_t* out,
                                     size_t cap, char* err, size_t err_cap) {
  return guarded(
      [&]() -> long long {
        const auto& processor = static_cast<const Model*>(model)->processor;
        std::vector<int> ids;
        check(processor.Encode(std::string_view(text, len), &ids));
        return static_cast<long long>(copy_out(ids, out, cap));
      },
      -1LL, err, err_cap);
}

// Text of `ids` (not NUL-terminated), or -1 on failure (e.g. an id outside the vocabulary).
MMTRAIN_SPM_API long long spm_decode(const void* model, const int64_t* ids, size_t count, char* out,
                                     size_t cap, char* err, size_t err_cap) {
  return guarded(
      [&]() -> long long {
        const auto& processor = static_cast<const Model*>(model)->processor;
        std::vector<int> narrow(count);
        for (size_t i = 0; i < count; ++i) {
          // Out-of-range ids would wrap when narrowed and could alias valid ones.
          if (ids[i] < 0 || ids[i] >= processor.GetPieceSize()) {
            throw std::out_of_range("id " + std::to_string(ids[i]) +
                                    " is outside the vocabulary of " +
                                    std::to_string(processor.GetPieceSize()));
          }
          narrow[i] = static_cast<int>(ids[i]);
        }
        std::string text;
        check(processor.Decode(narrow, &text));
        return static_cast<long long>(copy_out(text, out, cap));
      },
      -1LL, err, err_cap);
}

MMTRAIN_SPM_API int spm_vocab_size(const void* model) {
  return static_cast<const Model*>(model)->processor.GetPieceSize();
}
MMTRAIN_SPM_API int spm_bos_id(const void* model) {
  return static_cast<const Model*>(model)->processor.bos_id();
}
MMTRAIN_SPM_API int spm_eos_id(const void* model) {
  return static_cast<const Model*>(model)->processor.eos_id();
}
MMTRAIN_SPM_API int spm_pad_id(const void* model) {
  return static_cast<const Model*>(model)->processor.pad_id();
}
