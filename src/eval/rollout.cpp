#include "mmtrain/eval/rollout.h"

#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "mmtrain/data/loader.h"
#include "mmtrain/data/rng.h"
#include "mmtrain/errors.h"
#include "mmtrain/heads/action_head.h"
#include "mmtrain/io/write_file.h"

namespace mmtrain {

namespace {

namespace fs = std::filesystem;
using tabletop::Action;

// Rollout episodes draw from their own streams, apart from `data tabletop`'s: new scenes.
constexpr uint64_t kRolloutStream = 0x524f4c4cULL;  // "ROLL"
enum Purpose : uint64_t { kEpisode = 0, kNoise = 1 };

uint64_t rollout_seed(const RolloutOptions& options, int64_t episode, Purpose purpose, int step = 0) {
  return SplitMix64::stream(options.seed, {kRolloutStream, static_cast<uint64_t>(options.split),
                                           static_cast<uint64_t>(episode), purpose, static_cast<uint64_t>(step)})
      .next();
}

// Runs `actions` on one episode; true when it is over (succeeded, or out of steps).
bool act(tabletop::State& state, const tabletop::Task& task, const std::vector<Action>& actions, RolloutEpisode& out) {
  for (const Action& action : actions) {
    state = tabletop::step(state, action);
    ++out.steps;
    out.success = tabletop::succeeded(state, task);
    if (out.success || out.steps >= tabletop::kMaxSteps) return true;
  }
  return false;
}

}  // namespace

RolloutResult run_rollouts(const Policy& policy, const RolloutOptions& options) {
  RolloutResult result;
  result.split = tabletop::split_names().at(static_cast<size_t>(options.split));
  std::vector<tabletop::Episode> episodes;
  std::vector<int64_t> running;
  for (int64_t i = 0; i < options.episodes; ++i) {
    episodes.push_back(tabletop::random_episode(rollout_seed(options, i, kEpisode), options.split));
    RolloutEpisode out;
    out.task = tabletop::task_names().at(static_cast<size_t>(episodes.back().task.type));
    out.instruction = episodes.back().task.instruction;
    result.episodes.push_back(std::move(out));
    running.push_back(i);
  }
  while (!running.empty()) {
    std::vector<cv::Mat> images;
    std::vector<PolicyInput> inputs;
    images.reserve(running.size());
    for (int64_t i : running) {
      auto& episode = result.episodes[static_cast<size_t>(i)];
      images.push_back(tabletop::render(episodes[static_cast<size_t>(i)].state, options.image_size,
                                        rollout_seed(options, i, kNoise, episode.steps)));
      if (i < options.frames) episode.frames.push_back(images.back());
    }
    for (size_t r = 0; r < running.size(); ++r) {
      const auto& episode = episodes[static_cast<size_t>(running[r])];
      inputs.push_back({images[r], episode.state, episode.task});
    }
    const auto chunks = policy(inputs);
    TORCH_CHECK(chunks.size() == running.size(), "rollout: the policy gave ", chunks.size(), " action chunks for ",
                running.size(), " episodes");
    std::vector<int64_t> still_running;
    for (size_t r = 0; r < running.size(); ++r) {
      const int64_t i = running[r];
      auto& episode = episodes[static_cast<size_t>(i)];
      auto& out = result.episodes[static_cast<size_t>(i)];
      TORCH_CHECK(!chunks[r].empty(), "rollout: the policy gave no action");
      if (!act(episode.state, episode.task, chunks[r], out)) {
        still_running.push_back(i);
      } else if (i < options.frames) {
        out.frames.push_back(tabletop::render(episode.state, options.image_size, rollout_seed(options, i, kNoise, out.steps)));
      }
    }
    running = std::move(still_running);
  }
  return result;
}

Policy expert_policy() {
  return [](const std::vector<PolicyInput>& inputs) {
    std::vector<std::vector<Action>> chunks;
    for (const auto& input : inputs) chunks.push_back({tabletop::expert_action(input.state, input.task)});
    return chunks;
  };
}

Policy model_policy(EmbedContext& context, int execute, bool blank_instruction) {
  auto& head = action_head_of(*context.model, "rollout");
  if (!context.actions) throw ConfigError("rollout: the checkpoint has no action space (was it trained on episodes?)");
  TORCH_CHECK(execute >= 1, "rollout: execute at least one action of each chunk, not ", execute);
  return [&context, &head, execute, blank_instruction](const std::vector<PolicyInput>& inputs) {
    const LoaderOptions options = eval_loader_options(context);
    const auto rows = static_cast<int64_t>(inputs.size());
    Batch batch = allocate_batch(0, rows, options.transform.image_size, options.context_length);
    auto state = torch::empty({rows, tabletop::kStateDims});
    for (int64_t r = 0; r < rows; ++r) {
      const auto& input = inputs[static_cast<size_t>(r)];
      cv::Mat rgb;
      cv::cvtColor(input.image, rgb, cv::COLOR_BGR2RGB);
      const std::string instruction = blank_instruction ? "" : input.task.instruction;
      fill_batch_row(batch, r, rgb, instruction, -1, r, 0, context.tokenizer.get(), options);
      const auto proprio = tabletop::proprioception(input.state);
      std::copy(proprio.begin(), proprio.end(), state.data_ptr<float>() + r * tabletop::kStateDims);
    }
    torch::NoGradGuard no_grad;
    context.model->eval();
    ModelOutput output = context.model->forward(batch.images.to(context.device), batch.tokens.to(context.device));
    output.task.state = state.to(context.device);
    const auto predicted = head.predict(output).to(torch::kCPU).contiguous();  // [B,T,A] scaled
    const auto values = predicted.accessor<float, 3>();
    const ActionSpace& space = *context.actions;
    std::vector<std::vector<Action>> chunks(inputs.size());
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t t = 0; t < std::min<int64_t>(execute, predicted.size(1)); ++t) {
        double action[tabletop::kActionDims] = {};
        for (int64_t d = 0; d < std::min<int64_t>(space.dims(), tabletop::kActionDims); ++d) {
          action[d] = space.unscale(d, values[r][t][d]);
        }
        chunks[static_cast<size_t>(r)].push_back(tabletop::from_array(action));
      }
    }
    return chunks;
  };
}

std::vector<RolloutResult> run_rollouts_per_split(const Policy& policy, RolloutOptions options, const std::string& splits,
                                                  const std::string& what) {
  std::vector<RolloutResult> results;
  std::stringstream names(splits);
  for (std::string name; std::getline(names, name, ',');) {
    if (name.empty()) continue;
    options.split = tabletop::split_from_name(name, what);
    results.push_back(run_rollouts(policy, options));
  }
  if (results.empty()) throw ConfigError(what + ": name at least one of train, test, heldout");
  return results;
}

std::vector<RolloutResult> evaluate_rollouts(EmbedContext& context, const RolloutEvalConfig& config) {
  RolloutOptions options;
  options.episodes = config.episodes;
  options.seed = context.seed;
  options.image_size = context.transform.image_size;
  options.frames = config.frames;
  return run_rollouts_per_split(model_policy(context, config.execute), options, config.splits, "eval.rollout.splits");
}

Metrics rollout_metrics(const RolloutResult& result, const std::string& prefix) {
  std::map<std::string, std::pair<int64_t, int64_t>> counts;  // task -> (successes, episodes)
  std::map<std::string, int64_t> success_steps;
  int64_t successes = 0;
  for (const auto& episode : result.episodes) {
    auto& [won, total] = counts[episode.task];
    ++total;
    if (!episode.success) continue;
    ++won;
    ++successes;
    success_steps[episode.task] += episode.steps;
  }
  Metrics metrics;
  const auto episodes = static_cast<double>(result.episodes.size());
  metrics[prefix + "episodes"] = episodes;
  if (episodes > 0) metrics[prefix + "success"] = static_cast<double>(successes) / episodes;
  for (const auto& [task, count] : counts) {
    metrics[prefix + "success/" + task] = static_cast<double>(count.first) / static_cast<double>(count.second);
    if (count.first > 0) {
      metrics[prefix + "mean_steps/" + task] = static_cast<double>(success_steps[task]) / static_cast<double>(count.first);
    }
  }
  return metrics;
}

Metrics rollout_metrics(const std::vector<RolloutResult>& results) {
  Metrics metrics;
  for (const auto& result : results) metrics.merge(rollout_metrics(result, "rollout/" + result.split + "/"));
  return metrics;
}

namespace {

constexpr int kStripFrames = 12;
constexpr int kFramePixels = 128;

cv::Mat frame_strip(const RolloutEpisode& episode) {
  const int count = static_cast<int>(episode.frames.size());
  const int shown = std::min(count, kStripFrames);
  std::vector<cv::Mat> tiles;
  for (int k = 0; k < shown; ++k) {
    // Evenly spaced, the first and the last always.
    const int index = shown == 1 ? 0 : k * (count - 1) / (shown - 1);
    cv::Mat tile;
    cv::resize(episode.frames[static_cast<size_t>(index)], tile, cv::Size(kFramePixels, kFramePixels), 0, 0,
               cv::INTER_NEAREST);
    tiles.push_back(tile);
  }
  cv::Mat strip;
  cv::hconcat(tiles, strip);
  const cv::Scalar border = episode.success ? cv::Scalar(60, 170, 60) : cv::Scalar(50, 50, 210);
  cv::copyMakeBorder(strip, strip, 4, 4, 4, 4, cv::BORDER_CONSTANT, border);
  return strip;
}

}  // namespace

void write_rollout_frames(const std::vector<RolloutResult>& results, const std::string& dir) {
  fs::create_directories(dir);
  std::string index;
  for (const auto& result : results) {
    for (size_t i = 0; i < result.episodes.size(); ++i) {
      const auto& episode = result.episodes[i];
      if (episode.frames.empty()) continue;
      const std::string name = fmt::format("{}_{:03d}.png", result.split, i);
      const std::string path = (fs::path(dir) / name).string();
      if (!cv::imwrite(path, frame_strip(episode))) throw DataError(path + ": cannot write the rollout's frames");
      index += nlohmann::json{{"image", fs::absolute(path).string()},         {"split", result.split},     {"task", episode.task},
                              {"instruction", episode.instruction}, {"success", episode.success}, {"steps", episode.steps}}
                   .dump() +
               "\n";
    }
  }
  write_file_atomically((fs::path(dir) / "rollouts.jsonl").string(), index);
}

}  // namespace mmtrain
