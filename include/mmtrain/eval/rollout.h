// Closed-loop rollouts of a policy in the built-in table-top simulator (sim/tabletop.h): the
// policy sees the camera image, the instruction and the gripper's state, acts, and the simulator
// moves on, until the task succeeds or kMaxSteps pass. Every episode of a split runs at once, so a
// model policy makes one batched forward pass per step. Episodes, images and the model's actions
// follow from the seed: a rollout is reproducible.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "mmtrain/eval/embed.h"
#include "mmtrain/eval/evaluate.h"
#include "mmtrain/sim/tabletop.h"

namespace mmtrain {

struct RolloutOptions {
  tabletop::Split split = tabletop::Split::test;
  int64_t episodes = 100;
  uint64_t seed = 0;
  int image_size = 64;
  int frames = 0;  // the first this many episodes keep every camera image
};

struct RolloutEpisode {
  std::string task;  // pick | place | push
  std::string instruction;
  bool success = false;
  int steps = 0;
  std::vector<cv::Mat> frames;  // BGR, one per step and the final state (kept episodes only)
};

struct RolloutResult {
  std::string split;
  std::vector<RolloutEpisode> episodes;
};

// One running episode as a policy sees it: a learned policy reads the image, the instruction
// (task.instruction) and the proprioception of the state; the scripted expert reads the state and
// the task itself.
struct PolicyInput {
  const cv::Mat& image;  // BGR camera image
  const tabletop::State& state;
  const tabletop::Task& task;
};

// The next actions of each running episode (at least one each; several run open loop).
using Policy = std::function<std::vector<std::vector<tabletop::Action>>(const std::vector<PolicyInput>&)>;

RolloutResult run_rollouts(const Policy& policy, const RolloutOptions& options);

// The scripted expert: the baseline every policy is held to.
Policy expert_policy();
// The model's action head, unscaled by its action space; `execute` of each chunk's actions run
// before predicting again. With `blank_instruction` every instruction is "" (how much language
// matters). Throws ConfigError without an action head or action space.
Policy model_policy(EmbedContext& context, int execute, bool blank_instruction = false);

// run_rollouts on each split of `splits`, comma-separated names (options.split is ignored);
// ConfigError naming `what` for an unknown name or none.
std::vector<RolloutResult> run_rollouts_per_split(const Policy& policy, RolloutOptions options, const std::string& splits,
                                                  const std::string& what);

// eval.rollout: the model's policy over `config.episodes` episodes of each of config.splits, the
// first config.frames of each keeping their frames.
std::vector<RolloutResult> evaluate_rollouts(EmbedContext& context, const RolloutEvalConfig& config);

// "<prefix>success" overall and "<prefix>success/<task>", "<prefix>mean_steps/<task>" (successful
// episodes), "<prefix>episodes".
Metrics rollout_metrics(const RolloutResult& result, const std::string& prefix);
// Every result's metrics under "rollout/<split>/".
Metrics rollout_metrics(const std::vector<RolloutResult>& results);

// Each kept episode as one PNG strip of its frames (at most 12, evenly spaced, the last always;
// bordered green on success, red on failure), <dir>/<split>_<index>.png, and a line per strip in
// <dir>/rollouts.jsonl ({"image" (absolute path), "split", "task", "instruction", "success",
// "steps"}), which the report shows.
void write_rollout_frames(const std::vector<RolloutResult>& results, const std::string& dir);

}  // namespace mmtrain
