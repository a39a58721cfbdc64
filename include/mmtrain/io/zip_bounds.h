// A zip archive's central directory checked before LibTorch's reader (miniz) sees it. miniz
// allocates the size an entry claims before reading it, so a crafted directory claiming terabytes
// would be an allocation rather than an error. torch.save stores every entry uncompressed; LibTorch's
// archives deflate only their TorchScript code. So a stored entry must lie within the file with
// both sizes equal, and a deflated one must claim no more than deflate's ratio and 64 MB.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mmtrain {

// Reads `size` bytes at `offset` of the archive (the caller guarantees offset + size <= file size).
using ReadAt = std::function<std::string(uint64_t offset, uint64_t size)>;

struct ZipEntry {
  std::string name;
  bool stored = true;          // false: deflated
  uint64_t header_offset = 0;  // of its local header
  uint64_t size = 0;           // as stored
};

// The entries, checked; throws std::runtime_error saying which entry and what it claims (the
// caller names the file).
std::vector<ZipEntry> check_zip_bounds(uint64_t file_size, const ReadAt& read_at);
// The same for a file on disk, reading only its directory.
void check_zip_file_bounds(const std::string& path);
// A LibTorch archive in memory (a checkpoint's payload): its directory, and every pickle in it
// walked by check_pickle_lengths, since LibTorch's unpickler allocates a string's claimed length
// before it reads the string.
void check_torchscript_archive(const std::string& bytes);

}  // namespace mmtrain
