// Writing a file so that readers see the old content or the new, never a part: a temporary file,
// fsync, rename(2), then the folder fsync'ed (checkpoints, and files other ranks read).
#pragma once

#include <string>

namespace mmtrain {

// `head` then `body` (a checkpoint's header and payload, without joining them in memory). Throws
// std::runtime_error naming the file; the previous content is intact on failure.
void write_file_atomically(const std::string& path, const std::string& head, const std::string& body = "");

}  // namespace mmtrain
