#include <spdlog/spdlog.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/config/load_config.h"
#include "mmtrain/errors.h"
#include "mmtrain/io/checkpoint_file.h"
#include "mmtrain/models/open_clip.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/text/clip_bpe_tokenizer.h"

namespace mmtrain::cli {

int run_convert(int argc, char** argv) {
  Args args("mmtrain convert --format open_clip --config FILE.json --weights FILE --vocab BPE.txt.gz --out CHECKPOINT",
            "Turns open_clip (or OpenAI CLIP) ViT weights, CoCa's included, into a self-contained mmtrain "
            "checkpoint that eval, embed, caption and train (model.init_from: {format: mmtrain}) use as is.",
            {{"format", "", "open_clip", "the source format"},
             {"config", "", "FILE.json", "open_clip_config.json or a bare open_clip model config"},
             {"weights", "", "FILE", ".safetensors, or a torch.save'd state_dict (.pt/.bin)"},
             {"vocab", "", "BPE.txt.gz", "CLIP's bpe_simple_vocab_16e6.txt.gz"},
             {"out", "", "CHECKPOINT", "checkpoint to write"}});
  if (!args.parse(argc, argv)) return 0;
  if (args.require("format") != "open_clip") throw ConfigError("--format: only open_clip is supported");
  const OpenClipConfig source = read_open_clip_config(args.require("config"));
  auto tokenizer = load_clip_bpe_file(args.require("vocab"));
  if (tokenizer->vocab_size() != source.vocab_size) {
    throw ConfigError(args.require("config") + ": text_cfg.vocab_size " + std::to_string(source.vocab_size) +
                      " differs from the vocabulary's " + std::to_string(tokenizer->vocab_size()));
  }

  Config config;
  config.model.embed_dim = source.model.embed_dim;
  config.model.vision = source.model.vision;
  config.model.text = source.model.text;
  config.model.head = source.model.head;  // CoCa's decoder
  if (!config.model.head.type.empty()) {
    config.loss.terms = {{"clip", 1.0}, {"caption", 2.0}};
    // open_clip's generate() defaults: seq_len 30 and min_seq_len 5 (both counting start-of-text),
    // 6 beams in 3 groups without a diversity penalty, which search as one beam of 2.
    GenerationConfig& generate = config.eval.captioning.generate;
    generate.open_clip = true;
    generate.beam = 2;
    generate.max_len = 29;
    generate.min_len = 4;
  }
  config.data.mean = source.mean;
  config.data.std = source.std;
  config.tokenizer.type = "clip_bpe";
  config.tokenizer.path = args.require("vocab");
  auto model = build_model(config.model, TextVocab{tokenizer->vocab_size(), tokenizer->eos_id(), tokenizer->pad_id()});
  const std::string weights = args.require("weights");
  load_weights(*model, from_open_clip_state_dict(read_weight_file(weights)), true, weights);

  CheckpointMeta meta;
  meta.config_yaml = config_to_yaml(config);
  meta.tokenizer_type = tokenizer->type();
  meta.tokenizer_bytes = tokenizer->model_bytes();
  const std::string out = args.require("out");
  write_checkpoint_file(out, *model, meta);
  spdlog::info("converted {} ({} parameters) to {}", weights, model->parameters().size(), out);
  return 0;
}

}  // namespace mmtrain::cli
