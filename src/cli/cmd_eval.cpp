#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "mmtrain/config/load_config.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/eval/evaluate.h"
#include "mmtrain/runtime/startup.h"

namespace mmtrain::cli {

namespace {

// -c replaces only the eval section; --set applies on top of whichever config is in use. run.device
// and run.threads are the checkpoint's unless --set gives them: a checkpoint trained on a GPU
// evaluates on a host without one with --set run.device=cpu.
void apply_overrides(CheckpointModel& loaded, const Args& args) {
  const Config with_sets = parse_config(config_to_yaml(loaded.config), "checkpoint config", args.all("set"));
  const auto path = args.get("config");
  loaded.config.eval = path ? load_config(*path, args.all("set")).eval : with_sets.eval;
  loaded.config.run = with_sets.run;
}

}  // namespace

int run_eval(int argc, char** argv) {
  Args args("mmtrain eval --checkpoint CHECKPOINT [-c CONFIG] [--set KEY=VALUE]... [--json FILE|-]",
            "Zero-shot classification, image-text retrieval and captioning of a checkpoint, on the "
            "data of its config's eval section (or of -c's).",
            {{"checkpoint", "", "CHECKPOINT", "checkpoint file (or checkpoints/latest)"},
             {"config", "c", "CONFIG", "take the eval section from this YAML file"},
             {"set", "", "KEY=VALUE", "override an eval.* key, run.device or run.threads, repeatable", true},
             {"json", "", "FILE|-", "also write the metrics as one JSON object"}});
  if (!args.parse(argc, argv)) return 0;
  const std::string checkpoint = args.require("checkpoint");
  CheckpointModel loaded = load_checkpoint_model(checkpoint, torch::kCPU);
  apply_overrides(loaded, args);
  configure_runtime(loaded.config.run.threads);
  const auto device = resolve_device(loaded.config.run.device);
  loaded.model->to(device);
  EmbedContext context = make_embed_context(loaded.config, loaded.model, loaded.tokenizer, device);
  context.answers = loaded.answers;
  context.actions = loaded.actions;
  const Metrics metrics = evaluate(context, loaded.config.eval);
  if (metrics.empty()) {
    throw ConfigError("eval.zeroshot.path, eval.retrieval.path, eval.captioning.path, eval.vqa.path and "
                      "eval.actions.path are all empty and eval.rollout.episodes is 0: nothing to evaluate");
  }
  print_metrics(metrics);
  if (auto target = args.get("json")) {
    nlohmann::json record = {{"checkpoint", checkpoint}, {"step", loaded.state.step}};
    for (const auto& [key, value] : metrics) record[key] = value;
    write_json(*target, record);
  }
  return 0;
}

}  // namespace mmtrain::cli
