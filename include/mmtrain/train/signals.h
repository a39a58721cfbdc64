// SIGINT/SIGTERM during training: the first asks the trainer to finish its step, write a
// checkpoint and exit 130/143; a second one exits at once.
#pragma once

#include <stdexcept>

namespace mmtrain {

void install_stop_handlers();
// The signal number received, 0 if none.
int stop_requested();

// Thrown by the trainer after the checkpoint for a stop request; main exits 128 + signal.
struct StopRequested : std::runtime_error {
  explicit StopRequested(int signal_number)
      : std::runtime_error("stopped by signal"), signal(signal_number) {}
  int signal;
};

}  // namespace mmtrain
