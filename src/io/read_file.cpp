#include "mmtrain/io/read_file.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mmtrain {

std::string read_file_bytes(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open " + what);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace mmtrain
