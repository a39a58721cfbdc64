#include "mmtrain/train/signals.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace mmtrain {

namespace {

std::atomic<int> received{0};

void on_signal(int signal_number) {
  if (received.exchange(signal_number) != 0) _exit(128 + signal_number);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int stop_requested() { return received.load(); }

}  // namespace mmtrain
