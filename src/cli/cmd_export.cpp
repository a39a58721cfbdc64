#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/models/open_clip.h"

namespace mmtrain::cli {

int run_export(int argc, char** argv) {
  Args args("mmtrain export --checkpoint CHECKPOINT --format open_clip --out DIR",
            "Writes open_clip_config.json and open_clip_model.safetensors, which "
            "open_clip.create_model_and_transforms('local-dir:DIR') loads. Refuses models open_clip "
            "cannot load (non-CLIP tokenizer, fused models) with the reason.",
            {{"checkpoint", "", "CHECKPOINT", "checkpoint file"},
             {"format", "", "open_clip", "the target format"},
             {"out", "", "DIR", "output folder (created)"}});
  if (!args.parse(argc, argv)) return 0;
  if (args.require("format") != "open_clip") throw ConfigError("--format: only open_clip is supported");
  CheckpointModel loaded = load_checkpoint_model(args.require("checkpoint"), torch::kCPU);
  const std::string config_json = open_clip_config_json(loaded.config, loaded.tokenizer->vocab_size());
  const auto state = to_open_clip_state_dict(*loaded.model);

  const std::filesystem::path out = args.require("out");
  std::filesystem::create_directories(out);
  std::ofstream(out / "open_clip_config.json") << config_json;
  write_safetensors((out / "open_clip_model.safetensors").string(), state);
  spdlog::info("wrote {} tensors to {}", state.size(), out.string());
  return 0;
}

}  // namespace mmtrain::cli
