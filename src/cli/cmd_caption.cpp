#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/data/dataset.h"
#include "mmtrain/data/transforms.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/heads/caption_decoder.h"
#include "mmtrain/heads/caption_generation.h"
#include "mmtrain/runtime/startup.h"

namespace mmtrain::cli {

namespace {

double parse_number(const std::string& option, const std::string& value) {
  char* end = nullptr;
  const double parsed = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0') throw ConfigError(option + ": expected a number, found '" + value + "'");
  return parsed;
}

// The checkpoint's eval.captioning.generate with the command line's changes.
GenerationConfig generation_options(const Args& args, GenerationConfig config) {
  const auto count = [&](const char* name, int& field) {
    if (auto value = args.get(name)) field = static_cast<int>(parse_count(std::string("--") + name, *value));
  };
  const auto number = [&](const char* name, double& field) {
    if (auto value = args.get(name)) field = parse_number(std::string("--") + name, *value);
  };
  count("beam", config.beam);
  count("max-len", config.max_len);
  count("min-len", config.min_len);
  count("no-repeat-ngram", config.no_repeat_ngram);
  count("top-k", config.top_k);
  number("top-p", config.top_p);
  number("length-penalty", config.length_penalty);
  number("temperature", config.temperature);
  number("contrast", config.contrast);
  number("plausibility", config.plausibility);
  if (config.beam < 1 || config.max_len < 1) throw ConfigError("--beam and --max-len must be at least 1");
  if (!(config.top_p > 0 && config.top_p <= 1) || !(config.temperature > 0)) {
    throw ConfigError("--top-p must be in (0, 1] and --temperature positive");
  }
  return config;
}

std::vector<std::string> image_paths(const Args& args) {
  std::vector<std::string> paths = args.all("image");
  if (auto csv = args.get("images")) {
    for (const auto& sample : read_images_option(args, *csv).samples) {
      paths.push_back(sample.image_path);
    }
  }
  if (paths.empty()) throw ConfigError("give --images CSV or at least one --image FILE");
  return paths;
}

// Captions images in batches; an image that cannot be read is reported in its own line and the
// others are still captioned.
class Captioner {
 public:
  Captioner(CheckpointModel& loaded, GenerationConfig generation, uint64_t seed, std::ostream& out)
      : loaded_(loaded), generation_(std::move(generation)), seed_(seed), out_(out) {
    transform_ = transform_options(loaded.config.data, loaded.config.model.vision.image_size, false);
    tokens_ = {loaded.tokenizer->bos_id(), loaded.tokenizer->eos_id(), loaded.config.model.text.context_length,
               loaded.tokenizer->pad_id()};
  }

  // Returns the number of images that could not be read.
  int caption(const std::vector<std::string>& paths, int64_t batch_size, torch::Device device) {
    int failed = 0;
    for (size_t begin = 0; begin < paths.size(); begin += static_cast<size_t>(batch_size)) {
      const size_t end = std::min(paths.size(), begin + static_cast<size_t>(batch_size));
      std::vector<std::string> readable;
      std::vector<torch::Tensor> pixels;
      for (size_t i = begin; i < end; ++i) {
        try {
          pixels.push_back(load(paths[i]));
          readable.push_back(paths[i]);
        } catch (const std::exception& error) {
          ++failed;
          spdlog::error("{}", error.what());
          out_ << nlohmann::json{{"image", paths[i]}, {"error", error.what()}}.dump() << "\n";
        }
      }
      if (!pixels.empty()) write(readable, torch::stack(pixels).to(device));
    }
    return failed;
  }

 private:
  torch::Tensor load(const std::string& path) const {
    const cv::Mat rgb = read_rgb_image(path, loaded_.config.data.max_image_pixels);
    auto pixels = torch::empty({3, transform_.image_size, transform_.image_size}, torch::kFloat);
    transform_image(rgb, transform_, 0, pixels.data_ptr<float>());
    return pixels;
  }

  void write(const std::vector<std::string>& paths, const torch::Tensor& images) {
    const auto captions = generate_captions(*loaded_.model, images, tokens_, generation_, seed_++);
    for (size_t i = 0; i < captions.size(); ++i) {
      out_ << nlohmann::json{{"image", paths[i]},
                             {"caption", loaded_.tokenizer->decode(captions[i].ids)},
                             {"score", captions[i].score}}
                  .dump()
           << "\n";
    }
    out_.flush();
  }

  CheckpointModel& loaded_;
  GenerationConfig generation_;
  uint64_t seed_;
  std::ostream& out_;
  TransformOptions transform_;
  CaptionTokens tokens_;
};

}  // namespace

int run_caption(int argc, char** argv) {
  Args args("mmtrain caption --checkpoint CK (--images CSV | --image FILE...) [--beam N] [--max-len L] "
            "[--out FILE.jsonl]",
            "Captions images with a checkpoint's caption decoder (model.head.type caption): one JSON line "
            "per image, {image, caption, score}, in input order; an image that cannot be read gets "
            "{image, error} and the exit code is 1 once the others are captioned. Generation settings "
            "default to the checkpoint's eval.captioning.generate.",
            {{"checkpoint", "", "CK", "checkpoint file (or checkpoints/latest)"},
             {"images", "", "CSV", "CSV/TSV of images (paths relative to its folder)"},
             {"image-key", "", "COLUMN", "image column of --images (default filepath)"},
             {"separator", "", "SEP", "field separator of --images (default TAB)"},
             {"image", "", "FILE", "an image file, repeatable", true},
             {"beam", "", "N", "beam width (1 = greedy)"},
             {"max-len", "", "L", "at most L tokens, end-of-text included"},
             {"min-len", "", "L", "no end-of-text before L tokens"},
             {"length-penalty", "", "X", "beam: score = sum(log p) / length^X"},
             {"no-repeat-ngram", "", "N", "never repeat an N-gram (0 = off)"},
             {"top-k", "", "K", "sample among the K most likely tokens"},
             {"top-p", "", "P", "sample among the most likely tokens holding P of the mass"},
             {"temperature", "", "T", "sampling temperature"},
             {"contrast", "", "A", "contrastive decoding: subtract A x the blank image's log-probabilities"},
             {"plausibility", "", "B", "contrastive decoding: among tokens at least B x as likely as the best"},
             {"seed", "", "S", "sampling seed (default 0)"},
             {"device", "", "DEVICE", "auto, cpu, cuda or cuda:N (default: the checkpoint's run.device)"},
             {"out", "", "FILE.jsonl", "output file (default: standard output)"}});
  if (!args.parse(argc, argv)) return 0;
  if (!args.has("out")) log_to_stderr("caption");
  const auto paths = image_paths(args);
  CheckpointModel loaded = load_checkpoint_model(args.require("checkpoint"), torch::kCPU);
  caption_decoder_of(*loaded.model, "mmtrain caption");
  configure_runtime(loaded.config.run.threads);
  const auto device = resolve_device(args.get("device").value_or(loaded.config.run.device));
  loaded.model->to(device);
  const auto generation = generation_options(args, loaded.config.eval.captioning.generate);
  const auto seed = static_cast<uint64_t>(parse_count("--seed", args.get("seed").value_or("0")));

  std::ofstream file;
  if (auto out = args.get("out")) {
    file.open(*out);
    if (!file) throw DataError(*out + ": cannot open for writing");
  }
  std::ostream& out = args.has("out") ? file : std::cout;
  Captioner captioner(loaded, generation, seed, out);
  const int failed = captioner.caption(paths, loaded.config.eval.batch_size, device);
  if (args.has("out")) {
    file.close();
    if (!file) throw DataError(*args.get("out") + ": cannot write");
  }
  spdlog::info("captioned {} of {} images", paths.size() - failed, paths.size());
  return failed > 0 ? 1 : 0;
}

}  // namespace mmtrain::cli
