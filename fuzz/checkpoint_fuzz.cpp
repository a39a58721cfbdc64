// mmtrain checkpoints, each input read twice: as it is (the fixed header and its checksum), and
// with its header (its first 32 bytes) rewritten to match its payload, so that mutations reach the
// LibTorch archive behind the checksum too. Whatever loads is read as evaluation and --resume read
// it. Seeds: the checkpoints under tests/fixtures/checkpoints, unchanged.
#include <cstring>

#include "fuzz_input.h"
#include "mmtrain/io/checkpoint_file.h"

namespace {

// The header checkpoint_file.cpp writes: magic, format version, reserved, payload size, FNV-1a 64.
std::string with_header(const uint8_t* payload, size_t size) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ payload[i]) * 0x100000001b3ULL;
  const uint32_t version = mmtrain::kCheckpointVersion, reserved = 0;
  const uint64_t payload_size = size;
  std::string bytes("MMTRCKPT", 8);
  bytes.append(reinterpret_cast<const char*>(&version), 4);
  bytes.append(reinterpret_cast<const char*>(&reserved), 4);
  bytes.append(reinterpret_cast<const char*>(&payload_size), 8);
  bytes.append(reinterpret_cast<const char*>(&hash), 8);
  bytes.append(reinterpret_cast<const char*>(payload), size);
  return bytes;
}

void read_checkpoint(const std::string& path) {
  mmtrain::fuzz::expect_clear_refusal(path, [&] {
    const auto checkpoint = mmtrain::Checkpoint::load(path);
    checkpoint.model_tensors();
    torch::Tensor tensor;
    checkpoint.read_entry("optimizer/step", tensor);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static mmtrain::fuzz::InputFile file(".ckpt");
  read_checkpoint(file.write(data, size));
  constexpr size_t kHeaderSize = 32;
  if (size >= kHeaderSize) {
    const std::string bytes = with_header(data + kHeaderSize, size - kHeaderSize);
    read_checkpoint(file.write(bytes.data(), bytes.size()));
  }
  return 0;
}
