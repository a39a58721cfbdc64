#include <spdlog/spdlog.h>

#include <string>

#include "args.h"
#include "commands.h"
#include "mmtrain/errors.h"
#include "mmtrain/reporting/report.h"

namespace mmtrain::cli {

namespace {

const char* const kUsage = "mmtrain report RUN_DIR";

}  // namespace

int run_report(int argc, char** argv) {
  Args args(kUsage,
            "Writes RUN_DIR/report.html: one self-contained page with the run's summary, charts of every train "
            "and eval metric against step, the final eval, bad-sample counts and the resolved config.",
            {});
  // Args knows only options; the run folder is the one positional argument, taken off first.
  const bool has_run_dir = argc >= 1 && argv[0][0] != '-';
  if (!args.parse(argc - (has_run_dir ? 1 : 0), argv + (has_run_dir ? 1 : 0))) return 0;
  if (!has_run_dir) throw ConfigError(std::string("missing RUN_DIR\nusage: ") + kUsage);
  spdlog::info("report written to {}", write_report(argv[0]));
  return 0;
}

}  // namespace mmtrain::cli
