// Typed errors for user input, mapped once in main() to exit codes (2 usage/config, 1 runtime).
// TORCH_CHECK stays for internal invariants; these are for what a user can fix.
#pragma once

#include <stdexcept>
#include <string>

namespace mmtrain {

// A config file, a --set override or a command line that cannot be accepted. Exit code 2.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Input data that cannot be read (missing file, missing column, too many bad samples). Exit code 1.
struct DataError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace mmtrain
