// `mmtrain launch`: torchrun's job for one machine. Starts N ranks of `mmtrain ...` with the
// variables torchrun sets, forwards SIGINT/SIGTERM to them, and stops the rest when one fails.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "args.h"
#include "commands.h"
#include "mmtrain/errors.h"

namespace mmtrain::cli {

namespace {

volatile sig_atomic_t g_forward_signal = 0;

void remember_signal(int signal) { g_forward_signal = signal; }

struct LaunchPlan {
  int nproc = 1, nnodes = 1, node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::vector<std::string> command;  // after "--"
};

// Execs this binary as rank `local_rank` of the job; never returns.
[[noreturn]] void exec_rank(const LaunchPlan& plan, int local_rank) {
  setpgid(0, 0);  // the launcher forwards terminal signals once; the ranks must not get them twice
  const int rank = plan.node_rank * plan.nproc + local_rank;
  setenv("RANK", std::to_string(rank).c_str(), 1);
  setenv("WORLD_SIZE", std::to_string(plan.nnodes * plan.nproc).c_str(), 1);
  setenv("LOCAL_RANK", std::to_string(local_rank).c_str(), 1);
  setenv("LOCAL_WORLD_SIZE", std::to_string(plan.nproc).c_str(), 1);
  setenv("GROUP_RANK", std::to_string(plan.node_rank).c_str(), 1);
  setenv("MASTER_ADDR", plan.master_addr.c_str(), 1);
  setenv("MASTER_PORT", std::to_string(plan.master_port).c_str(), 1);
  std::vector<char*> argv;
  std::string self = "mmtrain";
  argv.push_back(self.data());
  std::vector<std::string> words = plan.command;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  std::fprintf(stderr, "mmtrain launch: cannot start rank %d: %s\n", rank, std::strerror(errno));
  _exit(127);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

void signal_all(const std::vector<pid_t>& children, const std::vector<bool>& running, int signal) {
  for (size_t i = 0; i < children.size(); ++i) {
    if (running[i]) kill(children[i], signal);
  }
}

// Waits for every rank. The first failure stops the others (SIGTERM, then SIGKILL after a grace
// period), as torchrun does, and becomes the launcher's exit code.
int supervise(const LaunchPlan& plan, const std::vector<pid_t>& children) {
  std::vector<bool> running(children.size(), true);
  size_t left = children.size();
  int first_failure = 0;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  int forwarded = 0;
  while (left > 0) {
    if (g_forward_signal != 0 && g_forward_signal != forwarded) {
      forwarded = g_forward_signal;
      signal_all(children, running, forwarded);
    }
    if (std::chrono::steady_clock::now() > stop_deadline) {
      signal_all(children, running, SIGKILL);
      stop_deadline = std::chrono::steady_clock::time_point::max();
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    for (size_t i = 0; i < children.size(); ++i) {
      if (children[i] != pid) continue;
      running[i] = false;
      --left;
      const int code = exit_code_of(status);
      if (code != 0 && first_failure == 0) {
        first_failure = code;
        std::fprintf(stderr, "mmtrain launch: rank %d exited with %d; stopping the other ranks\n",
                     plan.node_rank * plan.nproc + static_cast<int>(i), code);
        signal_all(children, running, SIGTERM);
        stop_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      }
    }
  }
  return first_failure;
}

}  // namespace

int run_launch(int argc, char** argv) {
  int split = 0;
  while (split < argc && std::string(argv[split]) != "--") ++split;
  Args args("mmtrain launch --nproc N [--nnodes M --node-rank R --master-addr A --master-port P] -- COMMAND ...",
            "Starts N ranks of `mmtrain COMMAND ...` on this machine for data-parallel training over "
            "c10d (Gloo), with torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, ...). "
            "Each machine of a multi-machine job runs the same command with its own --node-rank.",
            {{"nproc", "", "N", "ranks on this machine"},
             {"nnodes", "", "M", "machines in the job (default 1)"},
             {"node-rank", "", "R", "this machine's index, 0..M-1 (default 0)"},
             {"master-addr", "", "A", "address of rank 0's machine (default 127.0.0.1)"},
             {"master-port", "", "P", "a free TCP port there (default 29500)"}});
  if (!args.parse(split, argv)) return 0;
  LaunchPlan plan;
  plan.nproc = static_cast<int>(parse_count("--nproc", args.require("nproc")));
  plan.nnodes = static_cast<int>(parse_count("--nnodes", args.get("nnodes").value_or("1")));
  plan.node_rank = static_cast<int>(parse_count("--node-rank", args.get("node-rank").value_or("0")));
  plan.master_addr = args.get("master-addr").value_or("127.0.0.1");
  plan.master_port = static_cast<int>(parse_count("--master-port", args.get("master-port").value_or("29500")));
  for (int i = split + 1; i < argc; ++i) plan.command.emplace_back(argv[i]);
  if (plan.nproc < 1 || plan.nnodes < 1) throw ConfigError("--nproc and --nnodes must be at least 1");
  if (plan.node_rank >= plan.nnodes) throw ConfigError("--node-rank must be below --nnodes");
  if (plan.master_port < 1 || plan.master_port > 65535) throw ConfigError("--master-port must be 1..65535");
  if (plan.command.empty()) throw ConfigError("mmtrain launch: nothing to run; give the command after --, e.g. -- train -c CONFIG");

  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::vector<pid_t> children;
  for (int local_rank = 0; local_rank < plan.nproc; ++local_rank) {
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(std::string("mmtrain launch: fork failed: ") + std::strerror(errno));
    if (pid == 0) exec_rank(plan, local_rank);
    children.push_back(pid);
  }
  return supervise(plan, children);
}

}  // namespace mmtrain::cli
