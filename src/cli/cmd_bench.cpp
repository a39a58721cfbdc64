#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "args.h"
#include "commands.h"
#include "mmtrain/runtime/libtorch_compat.h"
#include "mmtrain/config/load_config.h"
#include "mmtrain/data/webdataset_loader.h"
#include "mmtrain/errors.h"
#include "mmtrain/text/build_tokenizer.h"
#include "mmtrain/train/trainer.h"
#include "mmtrain/train/training_data.h"

namespace mmtrain::cli {

namespace {

constexpr int64_t kUntimedSteps = 3;

double peak_memory_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// A scratch run folder, removed afterwards: benchmarks leave no run behind.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mmtrain_bench_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("cannot create a scratch folder");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void print_split(const StepTiming& t) {
  const double steps = std::max<int64_t>(1, t.steps);
  auto share = [&](double seconds) { return 100.0 * seconds / std::max(1e-9, t.seconds); };
  std::printf("step time %.1f ms: data wait %.1f ms (%.0f%%), forward %.1f ms (%.0f%%), backward %.1f ms (%.0f%%), "
              "optimizer %.1f ms (%.0f%%)\n",
              1e3 * t.seconds / steps, 1e3 * t.data_wait / steps, share(t.data_wait), 1e3 * t.forward / steps,
              share(t.forward), 1e3 * t.backward / steps, share(t.backward), 1e3 * t.optimizer / steps,
              share(t.optimizer));
}

int bench_train(Config config, int64_t steps, const std::optional<std::string>& trace, bool synthetic) {
  ScratchDir scratch;
  config.run.output_dir = scratch.path();
  config.run.name = "bench";
  config.train.steps = steps + kUntimedSteps;
  config.train.checkpoint_every = 0;
  config.train.log_every = std::max<int64_t>(config.train.log_every, config.train.steps);
  config.eval = EvalConfig{};
  configure_runtime(config.run.threads);
  TrainOptions options;
  options.untimed_steps = kUntimedSteps;
  options.save_final_checkpoint = false;
  options.synthetic_batches = synthetic;
  std::optional<torch::autograd::profiler::RecordProfile> profile;
  if (trace) profile.emplace(*trace);
  const StepTiming timing = train(config, options).timing;
  profile.reset();
  std::printf("%s, batch %lld, %s, %d threads, %s: %lld timed steps after %lld warm-up steps\n",
              config.model.vision.type.c_str(), static_cast<long long>(config.train.batch_size),
              config.train.precision.c_str(), torch::get_num_threads(),
              synthetic ? "synthetic tensors on the device" : "through the loader", static_cast<long long>(timing.steps),
              static_cast<long long>(kUntimedSteps));
  print_split(timing);
  std::printf("peak memory: %.0f MiB\n", peak_memory_mib());
  if (const auto gpu = compat::cuda_peak_memory_bytes(0)) std::printf("peak GPU memory: %.0f MiB\n", *gpu / 1048576.0);
  std::printf("samples/s: %.1f\n", timing.samples / std::max(1e-9, timing.seconds));
  return 0;
}

int bench_data(const Config& config, int64_t batches) {
  const TrainingData data = open_training_data(config);
  auto tokenizer = build_tokenizer(config.tokenizer, tokenizer_training_captions(config, data),
                                   static_cast<uint64_t>(config.run.seed));
  const LoaderOptions options = training_loader_options(config);
  auto loader_owner = make_training_source(config, data.dataset, tokenizer, data.bad_samples);
  BatchSource& loader = *loader_owner;
  int64_t images = 0, epoch = 0;
  loader.start_epoch(epoch);
  const auto start = std::chrono::steady_clock::now();
  for (int64_t b = 0; b < batches; ++b) {
    auto batch = loader.next();
    if (!batch) {
      loader.start_epoch(++epoch);
      batch = loader.next();
    }
    images += batch->images.size(0);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%lld images in %lld batches of %lld, %d workers, %d px\n", static_cast<long long>(images),
              static_cast<long long>(batches), static_cast<long long>(options.batch_size), options.workers,
              options.transform.image_size);
  if (data.bad_samples->total() > 0) std::printf("skipped bad samples: %lld\n", static_cast<long long>(data.bad_samples->total()));
  std::printf("images/s: %.1f\n", images / std::max(1e-9, seconds));
  return 0;
}

}  // namespace

int run_bench(int argc, char** argv) {
  if (argc < 1 || (std::string(argv[0]) != "train" && std::string(argv[0]) != "data")) {
    std::fprintf(stderr, "usage: mmtrain bench train|data -c CONFIG [--set KEY=VALUE]... [--steps N]\n");
    return argc >= 1 && (std::string(argv[0]) == "--help" || std::string(argv[0]) == "-h") ? 0 : 2;
  }
  const std::string what = argv[0];
  Args args("mmtrain bench " + what + " -c CONFIG [--set KEY=VALUE]... [--steps N]",
            what == "train" ? "Times training steps of the config's model on its data (no run folder is kept): "
                              "samples/s, the split of step time and peak memory."
                            : "Times the data pipeline alone (read, decode, augment, tokenise, collate).",
            {{"config", "c", "CONFIG", "YAML config file"},
             {"set", "", "KEY=VALUE", "override a config key, repeatable", true},
             {"steps", "", "N", what == "train" ? "timed optimizer steps (default 50)" : "batches (default 50)"},
             {"trace", "", "FILE", "train: write the operators' timeline as a Chrome trace (chrome://tracing)"},
             {"synthetic", "", "", "train: one batch of random tensors made on the training device, no loader"}});
  if (!args.parse(argc - 1, argv + 1)) return 0;
  const Config config = load_config(args.require("config"), args.all("set"));
  const int64_t steps = parse_count("--steps", args.get("steps").value_or("50"));
  if (what == "data" && args.get("trace")) throw ConfigError("--trace: only `bench train` records a trace");
  if (what == "data" && args.has("synthetic")) throw ConfigError("--synthetic: only `bench train` takes it");
  return what == "train" ? bench_train(config, steps, args.get("trace"), args.has("synthetic")) : bench_data(config, steps);
}

}  // namespace mmtrain::cli
