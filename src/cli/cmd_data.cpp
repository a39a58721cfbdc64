#include <iostream>

#include "args.h"
#include "commands.h"
#include "mmtrain/data/synthetic.h"
#include "mmtrain/errors.h"

namespace mmtrain::cli {

namespace {

int run_synth(int argc, char** argv) {
  Args args("mmtrain data synth --out DIR [--n N] [--seed S] [--image-size PX]",
            "Writes the built-in data set: coloured shapes with captions, zero-shot files for seen "
            "and held-out colour-shape combinations, and a retrieval set.",
            {{"out", "", "DIR", "output folder"},
             {"n", "", "N", "training pairs (default 6000)"},
             {"seed", "", "S", "random seed (default 0)"},
             {"image-size", "", "PX", "image side in pixels (default 64)"}});
  if (!args.parse(argc, argv)) return 0;
  SynthOptions options;
  options.n = parse_count("--n", args.get("n").value_or("6000"));
  options.seed = static_cast<uint64_t>(parse_count("--seed", args.get("seed").value_or("0")));
  options.image_size = static_cast<int>(parse_count("--image-size", args.get("image-size").value_or("64")));
  if (options.n < 1 || options.image_size < 16) throw ConfigError("--n must be >= 1 and --image-size >= 16");
  write_synthetic_dataset(args.require("out"), options);
  return 0;
}

}  // namespace

int run_data(int argc, char** argv) {
  if (argc >= 1 && std::string(argv[0]) == "synth") return run_synth(argc - 1, argv + 1);
  std::cerr << "usage: mmtrain data synth --out DIR [--n N] [--seed S]\n";
  return argc >= 1 && (std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h") ? 0 : 2;
}

}  // namespace mmtrain::cli
