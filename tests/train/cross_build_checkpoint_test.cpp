// Checkpoints written by the LibTorch 1.13 build and by the 2.x build (the same tiny run, made by
// tests/fixtures/checkpoints/make_checkpoints.sh) resume in whichever build runs this: the model,
// the optimizer state keyed by parameter name, and the RNG, then a step is taken.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/eval/checkpoint_model.h"
#include "mmtrain/runtime/libtorch_compat.h"
#include "mmtrain/train/checkpoint.h"
#include "mmtrain/train/optimizer.h"
#include "test_paths.h"

namespace mmtrain {
namespace {

class CrossBuildCheckpoint : public ::testing::TestWithParam<std::string> {};

TEST_P(CrossBuildCheckpoint, ResumesInThisBuildWithEveryParametersAdamState) {
  const std::string path = std::string(MMTRAIN_SOURCE_DIR) + "/tests/fixtures/checkpoints/" + GetParam();
  CheckpointModel loaded = load_checkpoint_model(path, torch::kCPU);
  EXPECT_EQ(loaded.state.step, 2);
  auto optimizer = build_optimizer(*loaded.model, loaded.config.optim);
  const Checkpoint checkpoint = Checkpoint::load(path);
  restore_optimizer(checkpoint, *loaded.model, *optimizer);
  restore_rng(checkpoint);

  int64_t trainable = 0;
  for (const auto& group : optimizer->param_groups()) {
    for (const auto& parameter : group.params()) {
      ++trainable;
      const auto found = optimizer->state().find(compat::optimizer_state_key(parameter));
      ASSERT_NE(found, optimizer->state().end()) << "a parameter of " << GetParam() << " has no AdamW state";
      const auto& state = static_cast<const torch::optim::AdamWParamState&>(*found->second);
      EXPECT_EQ(state.step(), 2);
      EXPECT_EQ(state.exp_avg().sizes(), parameter.sizes());
    }
  }
  EXPECT_GT(trainable, 10);
  EXPECT_EQ(static_cast<int64_t>(optimizer->state().size()), trainable);

  // The restored state is usable: one more step moves the weights and keeps them finite.
  const auto before = loaded.model->parameters().front().detach().clone();
  for (auto& p : loaded.model->parameters()) p.mutable_grad() = torch::ones_like(p);
  optimizer->step();
  EXPECT_FALSE(torch::equal(before, loaded.model->parameters().front()));
  EXPECT_TRUE(torch::isfinite(loaded.model->parameters().front()).all().item<bool>());
}

INSTANTIATE_TEST_SUITE_P(BothBuilds, CrossBuildCheckpoint,
                         ::testing::Values("libtorch-1.13.0.ckpt", "libtorch-2.11.0.ckpt"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param.find("1.13") != std::string::npos ? std::string("LibTorch_1_13")
                                                                                 : std::string("LibTorch_2_11");
                         });

}  // namespace
}  // namespace mmtrain
