// safetensors files (open_clip weights in): the length-prefixed JSON header and the tensor data.
#include "fuzz_input.h"
#include "mmtrain/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mmtrain::fuzz::InputFile file(".safetensors");
  const std::string& path = file.write(data, size);
  mmtrain::fuzz::expect_clear_refusal(path, [&] { mmtrain::read_safetensors(path); });
  return 0;
}
