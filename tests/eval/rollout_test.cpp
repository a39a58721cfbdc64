// Closed-loop rollouts in the table-top simulator: the expert's baseline and a model policy's
// reproducibility.
#include "mmtrain/eval/rollout.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "mmtrain/heads/action_head.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/registered_names.h"
#include "mmtrain/text/build_tokenizer.h"

namespace mmtrain {
namespace {

TEST(Rollout, TheExpertSucceedsInEverySplitAndTheMetricsCountEachTask) {
  for (const auto split : {tabletop::Split::train, tabletop::Split::test, tabletop::Split::heldout}) {
    RolloutOptions options;
    options.split = split;
    options.episodes = 45;
    options.seed = 11;
    const RolloutResult result = run_rollouts(expert_policy(), options);
    const Metrics metrics = rollout_metrics(result, "rollout/");
    EXPECT_EQ(metrics.at("rollout/success"), 1.0) << result.split;
    EXPECT_EQ(metrics.at("rollout/episodes"), 45.0);
    for (const char* task : {"pick", "place", "push"}) {
      ASSERT_TRUE(metrics.count(std::string("rollout/success/") + task)) << task;
      EXPECT_GT(metrics.at(std::string("rollout/mean_steps/") + task), 1.0) << task;
    }
  }
}

class ModelRollout : public ::testing::Test {
 protected:
  void SetUp() override {
    register_builtins();
    Config config;
    config.tokenizer.vocab_size = 64;
    config.model.embed_dim = 8;
    config.model.vision = VisionConfig{"vit", 32, 8, 16, 1, 2, 4.0, "gelu", "cls"};
    config.model.text = TextConfig{"transformer", 16, 16, 1, 2, 4.0, "gelu"};
    config.model.fusion = FusionConfig{"cross_attention", 16, 1, 2};
    config.model.head.type = "action";
    config.model.head.chunk = 2;
    config.model.head.action_dims = tabletop::kActionDims;
    config.model.head.state_dims = tabletop::kStateDims;
    std::vector<std::string> instructions;
    for (uint64_t seed = 0; seed < 50; ++seed) {
      instructions.push_back(tabletop::random_episode(seed, tabletop::Split::train).task.instruction);
    }
    auto tokenizer = build_tokenizer(config.tokenizer, instructions, 0);
    torch::manual_seed(4);
    auto model = build_model(config.model, TextVocab{tokenizer->vocab_size(), tokenizer->eos_id()});
    context_ = make_embed_context(config, model, tokenizer, torch::kCPU);
    context_.actions = std::make_shared<ActionSpace>(std::vector<float>{-0.08f, -0.08f, 0.0f},
                                                     std::vector<float>{0.08f, 0.08f, 1.0f});
  }

  RolloutResult roll(uint64_t seed, int execute) {
    RolloutOptions options;
    options.episodes = 5;
    options.seed = seed;
    options.image_size = 32;
    options.frames = 2;
    return run_rollouts(model_policy(context_, execute), options);
  }

  EmbedContext context_;
};

TEST_F(ModelRollout, TheSameSeedGivesTheSameRolloutAndAnotherSeedOtherEpisodes) {
  const RolloutResult first = roll(3, 1), again = roll(3, 1), other = roll(4, 1);
  ASSERT_EQ(first.episodes.size(), 5u);
  bool any_other = false;
  for (size_t i = 0; i < first.episodes.size(); ++i) {
    EXPECT_EQ(first.episodes[i].instruction, again.episodes[i].instruction);
    EXPECT_EQ(first.episodes[i].steps, again.episodes[i].steps);
    EXPECT_EQ(first.episodes[i].success, again.episodes[i].success);
    any_other = any_other || first.episodes[i].instruction != other.episodes[i].instruction;
  }
  EXPECT_TRUE(any_other);
  // The kept episodes hold a frame per step and the last state; identical bytes the second time.
  const auto& kept = first.episodes[0];
  ASSERT_EQ(kept.frames.size(), static_cast<size_t>(kept.steps + 1));
  EXPECT_EQ(cv::norm(kept.frames.back(), again.episodes[0].frames.back(), cv::NORM_INF), 0.0);
  EXPECT_TRUE(first.episodes[4].frames.empty());
}

TEST_F(ModelRollout, RunningSeveralActionsOfEachChunkTakesFewerForwardPasses) {
  int calls = 0;
  const Policy policy = model_policy(context_, 2);
  const Policy counted = [&](const std::vector<PolicyInput>& inputs) {
    ++calls;
    const auto chunks = policy(inputs);
    for (const auto& chunk : chunks) EXPECT_EQ(chunk.size(), 2u);
    return chunks;
  };
  RolloutOptions options;
  options.episodes = 2;
  options.image_size = 32;
  const RolloutResult result = run_rollouts(counted, options);
  int longest = 0;
  for (const auto& episode : result.episodes) longest = std::max(longest, episode.steps);
  EXPECT_EQ(calls, (longest + 1) / 2);
}

}  // namespace
}  // namespace mmtrain
