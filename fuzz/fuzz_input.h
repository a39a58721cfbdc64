// What every fuzz target shares (docs/fuzzing.md). The readers take paths, as users give them, so
// an input becomes a file first. The rule each target enforces: a reader may refuse an input only
// by throwing a std::exception whose message names what it read (the file's path, or the source
// name a target passes); a crash, a sanitizer report, an allocation over libFuzzer's limit, a hang,
// an exception of another type or a message that does not say which file is a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <initializer_list>
#include <string>
#include <utility>

namespace mmtrain::fuzz {

// The input's bytes as one file, rewritten for every input. Its name carries the process id, so
// parallel fuzzing jobs (-jobs=N) never share one.
class InputFile {
 public:
  explicit InputFile(const std::string& suffix) {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/mmtrain-fuzz-" + std::to_string(getpid()) + suffix;
  }
  ~InputFile() { std::remove(path_.c_str()); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& write(const void* data, size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) std::abort();  // the fuzzer's own disk is full: not a finding in mmtrain
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `read`; an exception is the reader refusing the input, which is fine only when its message
// names one of `names`. Anything else stops the fuzzer with the message, so the input is kept as
// a crash.
template <class Read>
void expect_clear_refusal(std::initializer_list<std::string> names, Read&& read) {
  try {
    read();
  } catch (const std::exception& error) {
    const std::string message = error.what();
    for (const std::string& name : names) {
      if (message.find(name) != std::string::npos) return;
    }
    std::fprintf(stderr, "finding: the error does not name '%s': %s\n", names.begin()->c_str(), message.c_str());
    std::abort();
  }
}

template <class Read>
void expect_clear_refusal(const std::string& name, Read&& read) {
  expect_clear_refusal({name}, std::forward<Read>(read));
}

// The first byte of an input picks among a target's modes (which reader, which separator); the
// rest is the file. Returns the mode in [0, modes) and advances data/size past it.
inline unsigned take_mode(const uint8_t*& data, size_t& size, unsigned modes) {
  if (size == 0) return 0;
  const unsigned mode = data[0] % modes;
  ++data;
  --size;
  return mode;
}

}  // namespace mmtrain::fuzz
