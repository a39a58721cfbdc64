// `mmtrain rollout`: a checkpoint's action head (or the scripted expert) run closed loop in the
// built-in table-top simulator; success rate per task and split, mean steps, and rollout frames.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/eval/rollout.h"
#include "mmtrain/runtime/startup.h"

namespace mmtrain::cli {

int run_rollout(int argc, char** argv) {
  Args args("mmtrain rollout (--checkpoint CK | --expert) [--episodes N] [--split test,heldout] [--frames DIR]",
            "Runs a policy closed loop in the built-in table-top simulator (the tasks of `mmtrain data tabletop`: "
            "pick up, put in, push to an edge) and prints the success rate per split and task and the mean steps "
            "of the successes. Episodes are new scenes drawn from --seed; the same seed gives the same rollouts.",
            {{"checkpoint", "", "CK", "checkpoint with an action head (or checkpoints/latest)"},
             {"expert", "", "", "run the scripted expert instead (the baseline)"},
             {"episodes", "", "N", "episodes per split (default 100)"},
             {"split", "", "NAMES", "comma-separated: train, test (new scenes), heldout (held-out compositions); default test,heldout"},
             {"seed", "", "S", "episode seed (default 0)"},
             {"execute", "", "N", "actions of each predicted chunk run before predicting again (default 1)"},
             {"blank-instruction", "", "", "every instruction blanked: how much language matters to this policy"},
             {"frames", "", "DIR", "write frame strips of the first --keep-frames rollouts per split and rollouts.jsonl here"},
             {"keep-frames", "", "N", "rollouts per split whose frames are written (default 4)"},
             {"device", "", "DEVICE", "auto, cpu, cuda or cuda:N (default: the checkpoint's run.device)"},
             {"out", "", "FILE.json", "also write the metrics as one JSON object"}});
  if (!args.parse(argc, argv)) return 0;
  const bool expert = args.has("expert");
  if (expert == args.has("checkpoint")) throw ConfigError("rollout: give --checkpoint or --expert (one of them)");
  RolloutOptions options;
  options.episodes = parse_count("--episodes", args.get("episodes").value_or("100"));
  options.seed = static_cast<uint64_t>(parse_count("--seed", args.get("seed").value_or("0")));
  options.frames = args.has("frames") ? static_cast<int>(parse_count("--keep-frames", args.get("keep-frames").value_or("4"))) : 0;
  const int execute = static_cast<int>(parse_count("--execute", args.get("execute").value_or("1")));
  if (options.episodes < 1 || execute < 1) throw ConfigError("--episodes and --execute: at least 1");

  std::optional<CheckpointModel> loaded;
  std::optional<EmbedContext> context;
  Policy policy = expert_policy();
  if (!expert) {
    loaded = load_checkpoint_model(args.require("checkpoint"), torch::kCPU);
    configure_runtime(loaded->config.run.threads);
    const auto device = resolve_device(args.get("device").value_or(loaded->config.run.device));
    loaded->model->to(device);
    context = make_embed_context(loaded->config, loaded->model, loaded->tokenizer, device);
    context->actions = loaded->actions;
    options.image_size = context->transform.image_size;
    policy = model_policy(*context, execute, args.has("blank-instruction"));
  }
  const auto results = run_rollouts_per_split(policy, options, args.get("split").value_or("test,heldout"), "--split");
  const Metrics metrics = rollout_metrics(results);
  print_metrics(metrics);
  if (auto dir = args.get("frames")) {
    write_rollout_frames(results, *dir);
    spdlog::info("rollout frames in {}", *dir);
  }
  if (auto out = args.get("out")) write_json(*out, nlohmann::json(metrics));
  return 0;
}

}  // namespace mmtrain::cli
