// `mmtrain`: one binary, one subcommand per job. Exit codes: 0 ok, 1 runtime error, 2 usage or
// config error, 128 + signal when stopped by SIGINT/SIGTERM.
#include <cstring>
#include <iostream>
#include <string>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "mmtrain/errors.h"
#include "mmtrain/registered_names.h"
#include "mmtrain/runtime/startup.h"
#include "mmtrain/train/signals.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command kCommands[] = {
    {"train", mmtrain::cli::run_train, "train a model from a YAML config (resumable)"},
    {"eval", mmtrain::cli::run_eval, "zero-shot classification and retrieval of a checkpoint"},
    {"caption", mmtrain::cli::run_caption, "caption images with a checkpoint's caption decoder, as JSON lines"},
    {"vqa", mmtrain::cli::run_vqa, "answer questions about images with a checkpoint's vqa head, as JSON lines"},
    {"rollout", mmtrain::cli::run_rollout, "run an action policy (or the expert) closed loop in the table-top simulator"},
    {"embed", mmtrain::cli::run_embed, "write L2-normalised image or text embeddings to .npy"},
    {"data", mmtrain::cli::run_data, "data tools: `data synth` / `binding` / `scenes` / `tabletop` write built-in data sets, `data fashion-mnist` prepares Fashion-MNIST"},
    {"tokenizer", mmtrain::cli::run_tokenizer, "tokenizer tools: `tokenizer train` from captions"},
    {"convert", mmtrain::cli::run_convert, "open_clip weights to an mmtrain checkpoint"},
    {"export", mmtrain::cli::run_export, "a checkpoint to open_clip's config + safetensors"},
    {"report", mmtrain::cli::run_report, "a run's metrics and config as one self-contained HTML page"},
    {"launch", mmtrain::cli::run_launch, "start N data-parallel ranks of a command on this machine (torchrun's variables)"},
    {"bench", mmtrain::cli::run_bench, "time training steps or the data pipeline (samples/s, images/s)"},
};

void print_usage(std::ostream& out) {
  out << "usage: mmtrain COMMAND [options]   (mmtrain COMMAND --help for its options)\n\ncommands:\n";
  for (const auto& command : kCommands) {
    out << "  " << command.name << std::string(12 - std::strlen(command.name), ' ') << command.summary << "\n";
  }
}

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    print_usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& command : kCommands) {
    if (argv[1] == std::string(command.name)) return command.run(argc - 2, argv + 2);
  }
  std::cerr << "mmtrain: unknown command '" << argv[1] << "'\n";
  print_usage(std::cerr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  mmtrain::reexec_with_fast_blas_kernels(argv);
  mmtrain::tune_allocator();
  spdlog::set_pattern("[%H:%M:%S] [%^%l%$] %v");
  mmtrain::register_builtins();
  try {
    return dispatch(argc, argv);
  } catch (const mmtrain::StopRequested& stop) {
    return 128 + stop.signal;
  } catch (const mmtrain::ConfigError& error) {
    spdlog::error("{}", error.what());
    return 2;
  } catch (const std::exception& error) {
    spdlog::error("{}", error.what());
    return 1;
  }
}
