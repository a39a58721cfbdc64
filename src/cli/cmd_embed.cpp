#include <fstream>

#include <spdlog/spdlog.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/data/dataset.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/io/npy.h"
#include "mmtrain/runtime/startup.h"

namespace mmtrain::cli {

namespace {

// Every line is one input, blank lines included: row i of the output is line i.
std::vector<std::string> read_text_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

int run_embed(int argc, char** argv) {
  Args args("mmtrain embed --checkpoint CHECKPOINT (--images CSV [--image-key filepath] [--separator SEP] "
            "| --texts FILE) --out FILE.npy",
            "Writes float32 [N, embed_dim] L2-normalised embeddings, row i = input i.",
            {{"checkpoint", "", "CHECKPOINT", "checkpoint file"},
             {"images", "", "CSV", "CSV/TSV of images (paths relative to its folder)"},
             {"image-key", "", "COLUMN", "image column of --images (default filepath)"},
             {"separator", "", "SEP", "field separator of --images (default TAB)"},
             {"texts", "", "FILE", "text file, one input per line"},
             {"out", "", "FILE.npy", "output file"}});
  if (!args.parse(argc, argv)) return 0;
  if (args.has("images") == args.has("texts")) throw ConfigError("give exactly one of --images and --texts");
  const std::string out = args.require("out");
  CheckpointModel loaded = load_checkpoint_model(args.require("checkpoint"), torch::kCPU);
  configure_runtime(loaded.config.run.threads);
  EmbedContext context = make_embed_context(loaded.config, loaded.model, loaded.tokenizer, torch::kCPU);

  torch::Tensor embeddings;
  if (auto csv = args.get("images")) {
    auto images = std::make_shared<PairDataset>(read_images_option(args, *csv));
    embeddings = embed_images(context, images);
  } else {
    embeddings = embed_texts(context, read_text_lines(*args.get("texts")));
  }
  embeddings = embeddings.contiguous();
  write_npy_float32(out, embeddings.data_ptr<float>(), {embeddings.size(0), embeddings.size(1)});
  spdlog::info("wrote {} embeddings of dimension {} to {}", embeddings.size(0), embeddings.size(1), out);
  return 0;
}

}  // namespace mmtrain::cli
