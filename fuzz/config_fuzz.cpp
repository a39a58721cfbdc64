// The YAML config and --set overrides: the input up to its first NUL byte is the file, each line
// after it one override. A config that parses must come back from its own YAML unchanged, as
// config_to_yaml promises.
#include <cstring>

#include "fuzz_input.h"
#include "mmtrain/config/load_config.h"

namespace {

std::vector<std::string> split_lines(const char* text, size_t size) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t i = 0; i <= size; ++i) {
    if (i == size || text[i] == '\n') {
      if (i > start) lines.emplace_back(text + start, i - start);
      start = i + 1;
    }
  }
  return lines;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  const auto* split = static_cast<const char*>(std::memchr(text, 0, size));
  const size_t yaml_size = split ? static_cast<size_t>(split - text) : size;
  const std::string yaml(text, yaml_size);
  const auto overrides = split ? split_lines(split + 1, size - yaml_size - 1) : std::vector<std::string>{};
  std::string resolved;
  mmtrain::fuzz::expect_clear_refusal({"fuzz.yaml", "--set"}, [&] {
    resolved = mmtrain::config_to_yaml(mmtrain::parse_config(yaml, "fuzz.yaml", overrides));
  });
  if (resolved.empty()) return 0;
  std::string again;
  try {
    again = mmtrain::config_to_yaml(mmtrain::parse_config(resolved, "resolved.yaml"));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "finding: a resolved config does not parse again: %s\n%s", error.what(), resolved.c_str());
    std::abort();
  }
  if (again != resolved) {
    std::fprintf(stderr, "finding: a resolved config changes when read again:\n%s---\n%s", resolved.c_str(), again.c_str());
    std::abort();
  }
  return 0;
}
