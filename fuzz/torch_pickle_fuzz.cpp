// torch.save files (.pt, .bin). An input that starts like a zip is read as the file; any other is
// data.pkl, stored in a well-formed archive beside four 64-byte storages (data/0 to data/3), so
// that mutations reach the unpickler instead of stopping at the zip's CRCs.
#include <cstring>
#include <vector>

#include "fuzz_input.h"
#include "mmtrain/io/torch_state_dict.h"
#include "support/pickle_archive.h"

namespace {

const std::vector<std::string>& storages() {
  static const std::vector<std::string> four = [] {
    std::string bytes(64, '\0');
    for (int i = 0; i < 64; ++i) bytes[i] = static_cast<char>(i * 7);
    return std::vector<std::string>(4, bytes);
  }();
  return four;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mmtrain::fuzz::InputFile file(".pt");
  if (size >= 4 && std::memcmp(data, "PK\x03\x04", 4) == 0) {
    file.write(data, size);
  } else {
    mmtrain::test::write_pickle_archive(file.path(), std::string(reinterpret_cast<const char*>(data), size), storages());
  }
  mmtrain::fuzz::expect_clear_refusal(file.path(), [&] { mmtrain::read_torch_state_dict(file.path()); });
  return 0;
}
