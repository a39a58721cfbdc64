// `mmtrain data tabletop`: expert demonstrations of the table-top tasks, as images and JSON lines.
#include <cmath>
#include <exception>
#include <filesystem>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <spdlog/spdlog.h>

#include "mmtrain/data/rng.h"
#include "mmtrain/errors.h"
#include "mmtrain/io/write_file.h"
#include "mmtrain/sim/tabletop.h"

namespace mmtrain::tabletop {

namespace {

namespace fs = std::filesystem;

// Every draw of an episode comes from its own seed: (split, index, purpose, step).
enum Purpose : uint64_t { kEpisode = 0, kNoise = 1 };

constexpr int kThreads = 2;
constexpr double kDecimals = 1e4;  // state and action values keep 4 decimals: small files

struct SplitSpec {
  Split split;
  uint64_t stream;
  int64_t episodes;
};

uint64_t episode_seed(uint64_t seed, const SplitSpec& split, int64_t index, Purpose purpose, int step = 0) {
  return SplitMix64::stream(seed, {split.stream, static_cast<uint64_t>(index), purpose, static_cast<uint64_t>(step)})
      .next();
}

// The states the expert acted in and its actions, up to the step that succeeds or the step limit.
struct Demonstration {
  Episode episode;
  std::vector<State> states;
  std::vector<Action> actions;
  bool succeeded = false;
};

Demonstration demonstrate(const Episode& episode) {
  Demonstration demo{episode, {}, {}, false};
  State state = episode.state;
  for (int t = 0; t < kMaxSteps && !succeeded(state, episode.task); ++t) {
    const Action action = expert_action(state, episode.task);
    demo.states.push_back(state);
    demo.actions.push_back(action);
    state = step(state, action);
  }
  demo.succeeded = succeeded(state, episode.task);
  return demo;
}

double rounded(double v) { return std::round(v * kDecimals) / kDecimals; }

std::string step_record(int64_t episode, int step, const std::string& image, const Task& task, const State& state,
                        const Action& action) {
  nlohmann::ordered_json proprio = nlohmann::ordered_json::array();
  for (float v : proprioception(state)) proprio.push_back(rounded(v));
  const double grip = action.grip >= 0.5 ? 1.0 : 0.0;
  const Object& named = state.objects.at(static_cast<size_t>(task.target));
  return nlohmann::ordered_json{{"episode", episode},
                                {"step", step},
                                {"image", image},
                                {"instruction", task.instruction},
                                {"task", task_names().at(static_cast<size_t>(task.type))},
                                {"state", proprio},
                                {"action", {rounded(action.dx), rounded(action.dy), grip}},
                                {"target", {rounded(named.x), rounded(named.y)}}}
             .dump() + "\n";
}

std::string csv_quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// One episode's share of the split's files.
struct EpisodeOutput {
  std::string lines;
  std::string caption_row;
  TaskType type = TaskType::pick;
  int steps = 0;
};

EpisodeOutput write_episode(const fs::path& root, const SplitSpec& split, int64_t index,
                            const TabletopOptions& options) {
  const std::string& split_name = split_names().at(static_cast<size_t>(split.split));
  const Demonstration demo =
      demonstrate(random_episode(episode_seed(options.seed, split, index, kEpisode), split.split));
  if (!demo.succeeded) {
    throw DataError(fmt::format("data tabletop: the expert failed {} episode {} (\"{}\") within {} steps", split_name,
                                index, demo.episode.task.instruction, kMaxSteps));
  }
  EpisodeOutput out;
  out.type = demo.episode.task.type;
  out.steps = static_cast<int>(demo.actions.size());
  for (int t = 0; t < out.steps; ++t) {
    const std::string image = fmt::format("images/{}/{:06d}_{:03d}.png", split_name, index, t);
    const cv::Mat pixels = render(demo.states[static_cast<size_t>(t)], options.image_size,
                                  episode_seed(options.seed, split, index, kNoise, t));
    if (!cv::imwrite((root / image).string(), pixels, {cv::IMWRITE_PNG_COMPRESSION, 1})) {
      throw DataError((root / image).string() + ": cannot write image");
    }
    out.lines += step_record(index, t, image, demo.episode.task, demo.states[static_cast<size_t>(t)],
                             demo.actions[static_cast<size_t>(t)]);
    if (t == 0) out.caption_row = image + "," + csv_quoted(describe(demo.states.front())) + "\n";
  }
  return out;
}

// Runs and writes the split's episodes on two threads (each episode is independent, so the bytes
// do not depend on the thread count) and returns them in order.
std::vector<EpisodeOutput> write_episodes(const fs::path& root, const SplitSpec& split, const TabletopOptions& options) {
  fs::create_directories(root / "images" / split_names().at(static_cast<size_t>(split.split)));
  std::vector<EpisodeOutput> episodes(static_cast<size_t>(split.episodes));
  std::vector<std::exception_ptr> failed(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int64_t i = t; i < split.episodes; i += kThreads) {
          episodes[static_cast<size_t>(i)] = write_episode(root, split, i, options);
        }
      } catch (...) {
        failed[static_cast<size_t>(t)] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : failed) {
    if (error) std::rethrow_exception(error);
  }
  return episodes;
}

}  // namespace

void write_tabletop_dataset(const std::string& out_dir, const TabletopOptions& options) {
  if (options.train_episodes < 1 || options.test_episodes < 1 || options.image_size < 32) {
    throw ConfigError("data tabletop: needs at least one training and one test episode and --image-size >= 32");
  }
  const fs::path root(out_dir);
  const std::vector<SplitSpec> splits{{Split::train, 1, options.train_episodes},
                                      {Split::test, 2, options.test_episodes},
                                      {Split::heldout, 3, options.test_episodes}};
  std::map<TaskType, std::pair<int64_t, int64_t>> per_task;  // episodes, steps
  int64_t steps = 0;
  for (const SplitSpec& split : splits) {
    std::string lines, captions = "image,caption\n";
    for (const EpisodeOutput& episode : write_episodes(root, split, options)) {
      lines += episode.lines;
      captions += episode.caption_row;
      ++per_task[episode.type].first;
      per_task[episode.type].second += episode.steps;
      steps += episode.steps;
    }
    const std::string& name = split_names().at(static_cast<size_t>(split.split));
    write_file_atomically((root / (name + ".jsonl")).string(), lines);
    write_file_atomically((root / (name + "_captions.csv")).string(), captions);
  }
  std::string means;
  for (const auto& [type, counts] : per_task) {
    means += fmt::format(" {} {:.1f}", task_names().at(static_cast<size_t>(type)),
                         static_cast<double>(counts.second) / static_cast<double>(counts.first));
  }
  spdlog::info("tabletop: {} training, {} test and {} held-out episodes of {} px in {}; {} steps; mean steps per task:{}",
               options.train_episodes, options.test_episodes, options.test_episodes, options.image_size, out_dir, steps,
               means);
}

}  // namespace mmtrain::tabletop
