// A zip archive's central directory checked before LibTorch's reader (miniz) sees it. miniz
// allocates the size an entry claims before reading it, so a crafted directory claiming terabytes
// would be an allocation rather than an error. torch.save stores every entry uncompressed; LibTorch's
// archives deflate only their TorchScript code. So a stored entry must lie within the file with
// both sizes equal, and a deflated one must claim no more than deflate's ratio and 64 MB.
#pragma once

#include <string>

namespace mmtrain {

// Both throw std::runtime_error saying which entry and what it claims; the caller names the file.
// A zip file on disk (a torch.save file), reading only its directory.
void check_zip_file_bounds(const std::string& path);
// A LibTorch archive in memory (a checkpoint's payload): its directory, and every pickle in it
// walked by check_pickle_lengths, since LibTorch's unpickler allocates a string's claimed length
// before it reads the string.
void check_torchscript_archive(const std::string& bytes);

}  // namespace mmtrain
