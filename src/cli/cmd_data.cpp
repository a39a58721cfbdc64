#include <iostream>
#include <optional>
#include <string>

#include "args.h"
#include "commands.h"
#include "mmtrain/data/binding_task.h"
#include "mmtrain/data/fashion_mnist.h"
#include "mmtrain/data/scenes.h"
#include "mmtrain/data/synthetic.h"
#include "mmtrain/errors.h"
#include "mmtrain/sim/tabletop.h"

namespace mmtrain::cli {

namespace {

const char* const kUsage =
    "usage: mmtrain data synth|binding --out DIR [--n N] [--seed S] [--image-size PX] [--image-format png|jpg]\n"
    "       mmtrain data scenes --out DIR [--scenes N] [--test-scenes N] [--questions Q] [--seed S] [--image-size PX]\n"
    "       mmtrain data tabletop --out DIR [--episodes N] [--test-episodes N] [--seed S] [--image-size PX]\n"
    "       mmtrain data fashion-mnist [--idx-dir DIR] --out DIR [--max-train N]\n";

// The flags every built-in data set takes. Reads n, seed and image_size into `options` (whose n
// is the default shown) and returns the output folder, or nothing when --help was asked for.
template <class Options>
std::optional<std::string> parse_generator_args(int argc, char** argv, const std::string& usage,
                                                const std::string& summary, Options& options) {
  const std::string default_n = std::to_string(options.n);
  Args args(usage, summary,
            {{"out", "", "DIR", "output folder"},
             {"n", "", "N", "training pairs (default " + default_n + ")"},
             {"seed", "", "S", "random seed (default 0)"},
             {"image-size", "", "PX", "image side in pixels (default 64)"},
             {"image-format", "", "png|jpg", "image files: png (default, lossless) or jpg (quality 95)"}});
  if (!args.parse(argc, argv)) return std::nullopt;
  options.n = parse_count("--n", args.get("n").value_or(default_n));
  options.seed = static_cast<uint64_t>(parse_count("--seed", args.get("seed").value_or("0")));
  options.image_size = static_cast<int>(parse_count("--image-size", args.get("image-size").value_or("64")));
  options.image_format = args.get("image-format").value_or("png");
  if (options.n < 1 || options.image_size < 16) throw ConfigError("--n must be >= 1 and --image-size >= 16");
  return args.require("out");
}

int run_synth(int argc, char** argv) {
  SynthOptions options;
  const auto out = parse_generator_args(
      argc, argv, "mmtrain data synth --out DIR [--n N] [--seed S] [--image-size PX] [--image-format png|jpg]",
      "Writes the built-in data set: coloured shapes with captions, zero-shot files for seen "
      "and held-out colour-shape combinations, and a retrieval set.",
      options);
  if (out) write_synthetic_dataset(*out, options);
  return 0;
}

int run_binding(int argc, char** argv) {
  BindingOptions options;
  const auto out = parse_generator_args(
      argc, argv, "mmtrain data binding --out DIR [--n N] [--seed S] [--image-size PX] [--image-format png|jpg]",
      "Writes the binding task: two coloured shapes side by side, captioned with their relation "
      "(\"a red circle left of a blue square\"). A class is an ordered scene; zero-shot files for "
      "seen and held-out scenes score each image against every scene, including its side- and "
      "colour-swapped distractors; the retrieval set has one image per scene.",
      options);
  if (out) write_binding_dataset(*out, options);
  return 0;
}

int run_scenes(int argc, char** argv) {
  ScenesOptions options;
  Args args("mmtrain data scenes --out DIR [--scenes N] [--test-scenes N] [--questions Q] [--seed S] [--image-size PX]",
            "Writes the built-in table-top scenes (two to four coloured shapes of two sizes) with questions "
            "and answers of eight types: colour, shape, count, existence, size, position, spatial, "
            "comparison. train.jsonl "
            "never asks the colour of a triangle or the shape of a green object; test.jsonl asks the "
            "trained kinds about new scenes, heldout.jsonl only those combinations.",
            {{"out", "", "DIR", "output folder"},
             {"scenes", "", "N", "training scenes (default " + std::to_string(options.train_scenes) + ")"},
             {"test-scenes", "", "N", "test scenes (default " + std::to_string(options.test_scenes) + ")"},
             {"questions", "", "Q", "questions per scene (default " + std::to_string(options.questions_per_scene) + ")"},
             {"seed", "", "S", "random seed (default 0)"},
             {"image-size", "", "PX", "image side in pixels (default 64)"}});
  if (!args.parse(argc, argv)) return 0;
  options.train_scenes = parse_count("--scenes", args.get("scenes").value_or(std::to_string(options.train_scenes)));
  options.test_scenes = parse_count("--test-scenes", args.get("test-scenes").value_or(std::to_string(options.test_scenes)));
  options.questions_per_scene = static_cast<int>(
      parse_count("--questions", args.get("questions").value_or(std::to_string(options.questions_per_scene))));
  options.seed = static_cast<uint64_t>(parse_count("--seed", args.get("seed").value_or("0")));
  options.image_size = static_cast<int>(parse_count("--image-size", args.get("image-size").value_or("64")));
  write_scenes_dataset(args.require("out"), options);
  return 0;
}

int run_tabletop(int argc, char** argv) {
  tabletop::TabletopOptions options;
  Args args("mmtrain data tabletop --out DIR [--episodes N] [--test-episodes N] [--seed S] [--image-size PX]",
            "Writes expert demonstrations of the built-in table-top tasks (pick up, place in a bowl, push to "
            "an edge; cups, bowls, blocks and balls of five colours): an image and a JSON line per step with "
            "the instruction, the gripper state and the expert's action, and a captioned first image per "
            "episode. train.jsonl never targets a red cup, blue ball or green block; test.jsonl targets the "
            "trained pairs in new scenes, heldout.jsonl only those three.",
            {{"out", "", "DIR", "output folder"},
             {"episodes", "", "N", "training episodes (default " + std::to_string(options.train_episodes) + ")"},
             {"test-episodes", "", "N",
              "test and held-out episodes each (default " + std::to_string(options.test_episodes) + ")"},
             {"seed", "", "S", "random seed (default 0)"},
             {"image-size", "", "PX", "image side in pixels (default 64)"}});
  if (!args.parse(argc, argv)) return 0;
  options.train_episodes =
      parse_count("--episodes", args.get("episodes").value_or(std::to_string(options.train_episodes)));
  options.test_episodes =
      parse_count("--test-episodes", args.get("test-episodes").value_or(std::to_string(options.test_episodes)));
  options.seed = static_cast<uint64_t>(parse_count("--seed", args.get("seed").value_or("0")));
  options.image_size = static_cast<int>(parse_count("--image-size", args.get("image-size").value_or("64")));
  tabletop::write_tabletop_dataset(args.require("out"), options);
  return 0;
}

int run_fashion_mnist(int argc, char** argv) {
  Args args("mmtrain data fashion-mnist [--idx-dir DIR] --out DIR [--max-train N] [--seed S] [--force]",
            "Writes Fashion-MNIST from its IDX files: train/ PNGs with a captioned train.csv, the "
            "test set as one folder per class under test/ and as test.csv, classnames.txt and "
            "templates.txt. A rerun with the same options does nothing.",
            {{"idx-dir", "", "DIR",
              "folder of {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (default "
              "/usr/share/datasets/fashion-mnist, from the Debian package dataset-fashion-mnist)"},
             {"out", "", "DIR", "output folder"},
             {"max-train", "", "N", "only the first N training images (default 0 = all 60,000)"},
             {"seed", "", "S", "picks each training caption's phrasing (default 0)"},
             {"force", "", "", "rewrite even when a complete output with these options exists"}});
  if (!args.parse(argc, argv)) return 0;
  FashionMnistOptions options;
  options.max_train = parse_count("--max-train", args.get("max-train").value_or("0"));
  options.seed = static_cast<uint64_t>(parse_count("--seed", args.get("seed").value_or("0")));
  options.force = args.has("force");
  prepare_fashion_mnist(args.get("idx-dir").value_or("/usr/share/datasets/fashion-mnist"),
                        args.require("out"), options);
  return 0;
}

}  // namespace

int run_data(int argc, char** argv) {
  if (argc >= 1 && std::string(argv[0]) == "synth") return run_synth(argc - 1, argv + 1);
  if (argc >= 1 && std::string(argv[0]) == "binding") return run_binding(argc - 1, argv + 1);
  if (argc >= 1 && std::string(argv[0]) == "scenes") return run_scenes(argc - 1, argv + 1);
  if (argc >= 1 && std::string(argv[0]) == "tabletop") return run_tabletop(argc - 1, argv + 1);
  if (argc >= 1 && std::string(argv[0]) == "fashion-mnist") return run_fashion_mnist(argc - 1, argv + 1);
  std::cerr << kUsage;
  return argc >= 1 && (std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h") ? 0 : 2;
}

}  // namespace mmtrain::cli
