// Debian's libsentencepiece carries its own protobuf-lite and exports its symbols; LibTorch needs
// the system protobuf, and a binary linking both crashes before main(). So nothing here links
// SentencePiece: a small shim (src/text/spm_shim.cpp, libmmtrain_spm.so) does, and it is loaded
// with dlmopen(LM_ID_NEWLM) into a link namespace of its own, where its protobuf cannot collide
// with ours. That namespace has its own C++ runtime and heap, so calls go through the shim's C
// interface and data comes back in buffers owned by this side.

#include "mmtrain/text/sentencepiece_tokenizer.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

constexpr const char* kShimFileName = "libmmtrain_spm.so";
constexpr const char* kShimPathVariable = "MMTRAIN_SPM_SHIM";
constexpr size_t kErrorCapacity = 1024;

// The shim's C interface; these signatures must match the definitions in spm_shim.cpp.
struct ShimApi {
  void* (*train)(const char* const* captions, const size_t* lengths, size_t count,
                 const char* model_type, int vocab_size, unsigned long long seed, char* err,
                 size_t err_cap);
  void* (*load)(const char* bytes, size_t len, char* err, size_t err_cap);
  void (*free)(void* model);
  size_t (*model_bytes)(const void* model, char* out, size_t cap);
  long long (*encode)(const void* model, const char* text, size_t len, int64_t* out, size_t cap,
                      char* err, size_t err_cap);
  long long (*decode)(const void* model, const int64_t* ids, size_t count, char* out, size_t cap,
                      char* err, size_t err_cap);
  int (*vocab_size)(const void* model);
  int (*bos_id)(const void* model);
  int (*eos_id)(const void* model);
  int (*pad_id)(const void* model);
};

struct ShimLocation {
  std::string path;  // empty when no candidate exists
  std::vector<std::string> looked_at;
};

// An explicit MMTRAIN_SPM_SHIM is used as is, so that a typo fails loudly instead of silently
// falling back. Otherwise an installed layout (bin/ next to lib/, or lib/ inside the build
// directory) wins over the build tree's absolute path baked in at compile time.
ShimLocation locate_shim() {
  if (const char* from_env = std::getenv(kShimPathVariable); from_env && *from_env) {
    return {from_env, {std::string(kShimPathVariable) + "=" + from_env}};
  }
  ShimLocation location;
  std::error_code error;
  const fs::path exe_dir = fs::read_symlink("/proc/self/exe", error).parent_path();
  if (!error) {
    for (const char* lib_dir : {"lib", "../lib"}) {
      const fs::path candidate = (exe_dir / lib_dir / kShimFileName).lexically_normal();
      location.looked_at.push_back(candidate.string());
      if (fs::exists(candidate, error)) {
        location.path = candidate.string();
        return location;
      }
    }
  }
#ifdef MMTRAIN_SPM_SHIM_PATH
  location.path = MMTRAIN_SPM_SHIM_PATH;
  location.looked_at.push_back(location.path);
#endif
  return location;
}

std::string join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const auto& part : parts) joined += (joined.empty() ? "" : ", ") + part;
  return joined;
}

ShimApi open_shim() {
  const ShimLocation location = locate_shim();
  const auto fail = [&](const std::string& reason) {
    throw std::runtime_error("cannot load the SentencePiece shim: " + reason +
                             " (looked at: " + join(location.looked_at) + "; set " +
                             kShimPathVariable + " to the path of " + kShimFileName + ")");
  };
  const auto last_dl_error = [] {
    const char* message = dlerror();
    return std::string(message ? message : "unknown dl error");
  };
  if (location.path.empty()) fail("no candidate file exists");

  void* handle = dlmopen(LM_ID_NEWLM, location.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) fail(last_dl_error());
  const auto symbol = [&](const char* name) {
    void* address = dlsym(handle, name);
    if (address == nullptr) {
      const std::string reason = location.path + " lacks " + name + ": " + last_dl_error();
      dlclose(handle);
      fail(reason);
    }
    return address;
  };
  ShimApi api{};
  api.train = reinterpret_cast<decltype(api.train)>(symbol("spm_train"));
  api.load = reinterpret_cast<decltype(api.load)>(symbol("spm_load"));
  api.free = reinterpret_cast<decltype(api.free)>(symbol("spm_free"));
  api.model_bytes = reinterpret_cast<decltype(api.model_bytes)>(symbol("spm_model_bytes"));
  api.encode = reinterpret_cast<decltype(api.encode)>(symbol("spm_encode"));
  api.decode = reinterpret_cast<decltype(api.decode)>(symbol("spm_decode"));
  api.vocab_size = reinterpret_cast<decltype(api.vocab_size)>(symbol("spm_vocab_size"));
  api.bos_id = reinterpret_cast<decltype(api.bos_id)>(symbol("spm_bos_id"));
  api.eos_id = reinterpret_cast<decltype(api.eos_id)>(symbol("spm_eos_id"));
  api.pad_id = reinterpret_cast<decltype(api.pad_id)>(symbol("spm_pad_id"));
  return api;
}

// Loaded once per process: every dlmopen(LM_ID_NEWLM) uses up one of glibc's few (16) link
// namespaces. The handle is never closed. A failed load throws and is retried on the next call.
const ShimApi& shim() {
  static const ShimApi api = open_shim();
  return api;
}

using ModelHandle = std::unique_ptr<void, void (*)(void*)>;

// `fill(out, cap, err, err_cap)` returns the length it needs, writing only when that fits in
// `cap`, or -1 with a message in `err`. The buffer starts at `guess` and grows until it fits.
template <typename Container, typename Fill>
Container read_from_shim(const char* what, size_t guess, Fill&& fill) {
  Container out(guess, typename Container::value_type{});
  char err[kErrorCapacity] = "";
  long long needed;
  while ((needed = fill(out.data(), out.size(), err, sizeof err)) >
         static_cast<long long>(out.size())) {
    out.resize(static_cast<size_t>(needed));
  }
  if (needed < 0) throw std::runtime_error(std::string(what) + ": " + err);
  out.resize(static_cast<size_t>(needed));
  return out;
}

std::string model_bytes_of(const void* model) {
  return read_from_shim<std::string>(
      "SentencePiece model bytes", 0, [&](char* out, size_t cap, char*, size_t) {
        return static_cast<long long>(shim().model_bytes(model, out, cap));
      });
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(ModelHandle model, std::string model_bytes)
      : model_(std::move(model)),
        model_bytes_(std::move(model_bytes)),
        vocab_size_(shim().vocab_size(model_.get())),
        bos_id_(shim().bos_id(model_.get())),
        eos_id_(shim().eos_id(model_.get())),
        pad_id_(shim().pad_id(model_.get())) {
    // tokenize_into and the text tower's pad mask need all three; models from plain spm_train
    // have no pad piece unless asked for one.
    if (bos_id_ < 0 || eos_id_ < 0 || pad_id_ < 0) {
      throw std::runtime_error("SentencePiece model lacks a bos, eos or pad piece (ids " +
                               std::to_string(bos_id_) + ", " + std::to_string(eos_id_) + ", " +
                               std::to_string(pad_id_) +
                               "); train it with --bos_id, --eos_id and --pad_id set");
    }
  }

  std::vector<int64_t> encode(const std::string& text) const override {
    return read_from_shim<std::vector<int64_t>>(
        "SentencePiece encode", text.size() + 2,
        [&](int64_t* out, size_t cap, char* err, size_t err_cap) {
          return shim().encode(model_.get(), text.data(), text.size(), out, cap, err, err_cap);
        });
  }

  std::string decode(const std::vector<int64_t>& ids) const override {
    return read_from_shim<std::string>("SentencePiece decode", ids.size() * 8 + 16,
                                       [&](char* out, size_t cap, char* err, size_t err_cap) {
                                         return shim().decode(model_.get(), ids.data(), ids.size(),
                                                              out, cap, err, err_cap);
                                       });
  }

  int64_t vocab_size() const override { return vocab_size_; }
  int64_t bos_id() const override { return bos_id_; }
  int64_t eos_id() const override { return eos_id_; }
  int64_t pad_id() const override { return pad_id_; }
  std::string type() const override { return "sentencepiece"; }
  const std::string& model_bytes() const override { return model_bytes_; }

 private:
  ModelHandle model_;
  std::string model_bytes_;
  int64_t vocab_size_;
  int64_t bos_id_;
  int64_t eos_id_;
  int64_t pad_id_;
};

}  // namespace

const std::vector<std::string>& sentencepiece_model_types() {
  static const std::vector<std::string> types{"unigram", "bpe", "word", "char"};
  return types;
}

std::string train_sentencepiece(const std::vector<std::string>& captions, int vocab_size,
                                uint64_t seed, const std::string& model_type) {
  // SentencePiece reports these two only as failed internal checks.
  if (captions.empty()) throw std::invalid_argument("train_sentencepiece: no captions");
  if (vocab_size <= 0) {
    throw std::invalid_argument("train_sentencepiece: vocab_size must be positive, got " +
                                std::to_string(vocab_size));
  }
  // Checked here because the type becomes part of SentencePiece's flag string.
  const auto& types = sentencepiece_model_types();
  if (std::find(types.begin(), types.end(), model_type) == types.end()) {
    throw std::invalid_argument("train_sentencepiece: model type '" + model_type + "' is not one of " +
                                join(types));
  }
  std::vector<const char*> texts;
  std::vector<size_t> lengths;
  texts.reserve(captions.size());
  lengths.reserve(captions.size());
  for (const auto& caption : captions) {
    texts.push_back(caption.data());
    lengths.push_back(caption.size());
  }
  char err[kErrorCapacity] = "";
  ModelHandle model(shim().train(texts.data(), lengths.data(), captions.size(),
                                 model_type.c_str(), vocab_size, seed, err, sizeof err),
                    shim().free);
  if (!model) throw std::runtime_error(std::string("train_sentencepiece: ") + err);
  return model_bytes_of(model.get());
}

std::unique_ptr<Tokenizer> load_sentencepiece(const std::string& model_bytes) {
  char err[kErrorCapacity] = "";
  ModelHandle model(shim().load(model_bytes.data(), model_bytes.size(), err, sizeof err),
                    shim().free);
  if (!model) {
    throw std::runtime_error(std::string("load_sentencepiece: not a SentencePiece model: ") + err);
  }
  return std::make_unique<SentencePieceTokenizer>(std::move(model), model_bytes);
}

}  // namespace mmtrain
