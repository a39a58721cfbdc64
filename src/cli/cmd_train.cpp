#include "args.h"
#include "commands.h"
#include "mmtrain/config/load_config.h"
#include "mmtrain/train/signals.h"
#include "mmtrain/train/trainer.h"

namespace mmtrain::cli {

int run_train(int argc, char** argv) {
  Args args("mmtrain train -c CONFIG [--set KEY=VALUE]... [--resume latest|CHECKPOINT]",
            "Trains a model as the YAML config says, into <run.output_dir>/<run.name>/.",
            {{"config", "c", "CONFIG", "YAML config file"},
             {"set", "", "KEY=VALUE", "override a config key (YAML value), repeatable", true},
             {"resume", "", "latest|CHECKPOINT", "continue a run; 'latest' starts fresh when none exists"},
             {"stop-at", "", "STEP", "checkpoint and exit after this step (resume later)"}});
  if (!args.parse(argc, argv)) return 0;
  const Config config = load_config(args.require("config"), args.all("set"));
  configure_runtime(threads_per_process(config.run.threads));
  install_stop_handlers();
  TrainOptions options{args.get("resume").value_or(""), 0};
  if (auto stop_at = args.get("stop-at")) options.stop_at_step = parse_count("--stop-at", *stop_at);
  const TrainSummary summary = train(config, options);
  if (!summary.eval.empty()) print_metrics(summary.eval);
  return 0;
}

}  // namespace mmtrain::cli
