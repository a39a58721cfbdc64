// A zip archive's central directory checked before LibTorch's reader (miniz) sees it. miniz
// allocates the size an entry claims before reading it, so a crafted directory claiming terabytes
// would be an allocation rather than an error. torch.save stores every entry uncompressed; LibTorch's
// archives deflate only their TorchScript code. So a stored entry must lie within the file with
// both sizes equal, and a deflated one must claim no more than deflate's ratio and 64 MB.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace mmtrain {

// Reads `size` bytes at `offset` of the archive (the caller guarantees offset + size <= file size).
using ReadAt = std::function<std::string(uint64_t offset, uint64_t size)>;

// Throws std::runtime_error saying which entry and what it claims; the caller names the file.
void check_zip_bounds(uint64_t file_size, const ReadAt& read_at);
// The same for a file on disk (reading only its end) and for an archive in memory.
void check_zip_file_bounds(const std::string& path);
void check_zip_bytes_bounds(const std::string& bytes);

}  // namespace mmtrain
