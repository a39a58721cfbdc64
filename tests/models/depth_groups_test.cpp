#include "mmtrain/models/depth_groups.h"

#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/errors.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/train/init_from.h"
#include "mmtrain/train/optimizer.h"

namespace mmtrain {
namespace {

// A 3-block ViT and a 2-block text transformer, late fusion.
MultimodalModel three_block_model() {
  ModelConfig config;
  config.embed_dim = 8;
  config.vision = VisionConfig{"vit", 16, 8, 16, 3, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 8, 16, 2, 2, 4.0, "gelu"};
  torch::manual_seed(1);
  return build_model(config, TextVocab{20, 19});
}

std::set<std::string> trainable(MultimodalModelImpl& model) {
  std::set<std::string> names;
  for (const auto& item : model.named_parameters()) {
    if (item.value().requires_grad()) names.insert(item.key());
  }
  return names;
}

std::set<std::string> names_under(MultimodalModelImpl& model, const std::vector<std::string>& prefixes) {
  std::set<std::string> names;
  for (const auto& item : model.named_parameters()) {
    for (const auto& prefix : prefixes) {
      if (item.key().rfind(prefix, 0) == 0) names.insert(item.key());
    }
  }
  return names;
}

TEST(DepthGroups, FollowOpenClipsLockGroupsAndCoverEveryTowerParameterOnce) {
  auto model = three_block_model();
  const auto groups = model->vision_depth_groups();
  std::vector<std::string> names;
  for (const auto& group : groups) names.push_back(group.name);
  EXPECT_EQ(names, (std::vector<std::string>{"embeddings", "block 0", "block 1", "block 2 + final norm", "projection"}));
  std::set<const void*> seen;
  size_t count = 0;
  for (const auto& group : groups) {
    for (const auto& p : group.parameters) {
      seen.insert(p.unsafeGetTensorImpl());
      ++count;
    }
  }
  EXPECT_EQ(seen.size(), count) << "a parameter in two groups";
  EXPECT_EQ(count, model->vision().parameters().size() + 1);  // + the fusion's image projection
  EXPECT_EQ(model->text_depth_groups().size(), 4u);  // embeddings, block 0, block 1 + final norm, projection
}

TEST(PartialUnlocking, TwoVisionGroupsLeaveTheLastBlockFinalNormAndProjectionTrainable) {
  auto model = three_block_model();
  LockConfig lock;
  lock.vision = true;
  lock.vision_unlocked_groups = 2;
  apply_locks(lock, *model);
  const auto all = trainable(*model);
  auto vision = std::set<std::string>();
  for (const auto& name : all) {
    if (name.rfind("vision.", 0) == 0 || name == "fusion.image_projection") vision.insert(name);
  }
  EXPECT_EQ(vision, names_under(*model, {"vision.transformer.resblocks.2.", "vision.ln_post.", "fusion.image_projection"}));
  // The frozen part includes ln_pre and the earlier blocks' norms, as open_clip freezes them.
  EXPECT_EQ(all.count("vision.ln_pre.weight"), 0u);
  EXPECT_EQ(all.count("vision.transformer.resblocks.1.ln_1.weight"), 0u);
  EXPECT_EQ(all.count("text.transformer.resblocks.0.ln_1.weight"), 1u);  // the text tower is not locked
}

TEST(PartialUnlocking, OneTextLayerIsTheProjectionAndMoreThanThereAreUnlocksTheWholeTower) {
  auto model = three_block_model();
  model->lock_text(1);
  auto text = trainable(*model);
  EXPECT_EQ(text.count("fusion.text_projection"), 1u);
  EXPECT_EQ(text.count("text.ln_final.weight"), 0u);
  auto whole = three_block_model();
  whole->lock_text(10);
  EXPECT_EQ(trainable(*whole).size(), whole->parameters().size());
}

TEST(PartialUnlocking, IsRefusedWithoutTheLockAndForATowerWithoutGroups) {
  auto model = three_block_model();
  LockConfig lock;
  lock.text_unlocked_layers = 1;
  EXPECT_THROW(
      {
        try {
          apply_locks(lock, *model);
        } catch (const ConfigError& error) {
          EXPECT_NE(std::string(error.what()).find("model.lock.text_unlocked_layers"), std::string::npos);
          EXPECT_NE(std::string(error.what()).find("model.lock.text: true"), std::string::npos);
          throw;
        }
      },
      ConfigError);
  ModelConfig config;
  config.embed_dim = 8;
  config.vision.type = "convnet";
  config.vision.image_size = 16;
  config.vision.width = 16;
  config.vision.layers = 2;  // convnet: stages
  config.text = TextConfig{"transformer", 8, 16, 1, 2, 4.0, "gelu"};
  auto cnn = build_model(config, TextVocab{20, 19});
  LockConfig cnn_lock;
  cnn_lock.vision = true;
  cnn_lock.vision_unlocked_groups = 1;
  EXPECT_THROW(apply_locks(cnn_lock, *cnn), ConfigError);
}

TEST(LayerDecay, EachGroupLearnsAtDecayToItsDepthFromTheTopAndTheRestAtTheBaseRate) {
  auto model = three_block_model();
  OptimConfig config;
  config.lr = 1.0;
  const double decay = 0.5;
  auto optimizer = build_optimizer(*model, config, layer_decay_scales(*model, decay));
  set_learning_rate(*optimizer, 0.1);
  std::map<const void*, double> lr;
  for (auto& group : optimizer->param_groups()) {
    for (auto& p : group.params()) lr[p.unsafeGetTensorImpl()] = group.options().get_lr();
  }
  const auto groups = model->vision_depth_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    const double expected = 0.1 * std::pow(decay, static_cast<double>(groups.size() - 1 - i));
    for (const auto& p : groups[i].parameters) EXPECT_DOUBLE_EQ(lr.at(p.unsafeGetTensorImpl()), expected) << groups[i].name;
  }
  // Embeddings lowest: 0.1 * 0.5^4 for the vision tower's 5 groups.
  EXPECT_DOUBLE_EQ(lr.at(model->vision_depth_groups().front().parameters.front().unsafeGetTensorImpl()), 0.1 / 16);
  const auto fusion_parameters = model->fusion().named_parameters();  // find() points into it
  const auto* logit_scale = fusion_parameters.find("logit_scale");
  ASSERT_NE(logit_scale, nullptr);
  EXPECT_DOUBLE_EQ(lr.at(logit_scale->unsafeGetTensorImpl()), 0.1);
  EXPECT_EQ(lr.size(), model->parameters().size());
}

}  // namespace
}  // namespace mmtrain
