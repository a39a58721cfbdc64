// The action head (continuous and binned) and its loss terms.
#include "mmtrain/heads/action_head.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "mmtrain/data/action_space.h"
#include "mmtrain/losses/action_loss.h"
#include "mmtrain/losses/pointing_loss.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/registered_names.h"

namespace mmtrain {
namespace {

ModelConfig action_config(int bins, int chunk) {
  ModelConfig config;
  config.embed_dim = 8;
  config.vision = VisionConfig{"vit", 16, 8, 16, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 6, 24, 1, 2, 4.0, "gelu"};
  config.fusion = FusionConfig{"cross_attention", 16, 1, 2};
  config.head.type = "action";
  config.head.chunk = chunk;
  config.head.bins = bins;
  config.head.action_dims = 3;
  config.head.state_dims = 4;
  return config;
}

const torch::Tensor kTokens = torch::tensor({{2, 5, 6, 3, 0, 0}, {2, 7, 3, 0, 0, 0}}, torch::kLong);

ModelOutput run(MultimodalModelImpl& model, const torch::Tensor& state) {
  ModelOutput output = model.forward(torch::randn({2, 3, 16, 16}), kTokens);
  output.task.state = state;
  return output;
}

// A seeded model and its outputs for kTokens beside random images and gripper states.
struct Policy {
  MultimodalModel model;
  ModelOutput output;
  ActionHeadImpl& head() { return action_head_of(*model, "test"); }
};

Policy policy_of(const ModelConfig& config, uint64_t seed) {
  register_builtins();
  torch::manual_seed(seed);
  MultimodalModel model = build_model(config, TextVocab{20, 3});
  ModelOutput output = run(*model, torch::rand({2, 4}));
  return {model, std::move(output)};
}

TEST(ActionHead, PredictsAChunkOfActionsFromTheJointRepresentationAndTheProprioception) {
  register_builtins();
  torch::manual_seed(1);
  auto model = build_model(action_config(0, 4), TextVocab{20, 3});
  auto& head = action_head_of(*model, "test");
  const auto state = torch::rand({2, 4});
  torch::manual_seed(5);
  const ModelOutput output = run(*model, state);
  const auto y = head.forward(output);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 4, 3}));
  // The proprioception is an input: another gripper state predicts other actions.
  ModelOutput moved = output;
  moved.task.state = state + 0.5;
  EXPECT_FALSE(torch::allclose(y, head.forward(moved)));
  const auto predicted = head.predict(output);
  EXPECT_LE(predicted.abs().max().item<double>(), 1.0);
  // L1 against targets trains both towers and the head.
  const auto loss = action_l1_loss(y, torch::zeros({2, 4, 3}));
  EXPECT_NEAR(loss.item<double>(), y.abs().mean().item<double>(), 1e-7);
  loss.backward();
  EXPECT_TRUE(model->vision().parameters().front().grad().defined());
  EXPECT_TRUE(model->text().parameters().front().grad().defined());
}

TEST(ActionHead, BinnedHeadScoresEveryBinAndPredictsTheCentreOfTheMostLikely) {
  Policy policy = policy_of(action_config(8, 2), 2);
  auto& head = policy.head();
  const ModelOutput& output = policy.output;
  const auto logits = head.forward(output);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 2, 3, 8}));
  const auto predicted = head.predict(output);
  const auto best = logits.argmax(-1);
  for (int64_t b = 0; b < 8; ++b) {
    const auto rows = best == b;
    if (rows.any().item<bool>()) {
      EXPECT_FLOAT_EQ(predicted.masked_select(rows)[0].item<float>(), ActionSpace::bin_centre(b, 8));
    }
  }
}

TEST(ActionLoss, CrossEntropyOverBinsMatchesTheDefinitionAndBinsMatchActionSpace) {
  torch::manual_seed(3);
  const auto logits = torch::randn({2, 1, 3, 5});
  const auto targets = torch::tensor({-1.0f, -0.61f, 0.0f, 0.39f, 0.99f, 1.0f}).view({2, 1, 3});
  const auto bins = action_bins(targets, 5);
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(bins.view(-1)[i].item<int64_t>(), ActionSpace::bin_of(targets.view(-1)[i].item<float>(), 5)) << i;
  }
  EXPECT_EQ(bins.view(-1)[0].item<int64_t>(), 0);
  EXPECT_EQ(bins.view(-1)[5].item<int64_t>(), 4);  // the top edge belongs to the last bin
  // -mean(log softmax at the target bin), by hand.
  const auto flat = logits.view({6, 5});
  double expected = 0;
  for (int64_t i = 0; i < 6; ++i) {
    expected -= torch::log_softmax(flat[i], 0)[bins.view(-1)[i].item<int64_t>()].item<double>();
  }
  EXPECT_NEAR(action_ce_loss(logits, targets).item<double>(), expected / 6.0, 1e-6);
}

TEST(ActionLoss, PointingIsCrossEntropyAtTheTargetsCellAndRowsWithoutATargetAreLeftOut) {
  // A 4x4 grid: (0.1, 0.9) is column 0, row 3 -> cell 12; (0.6, 0.3) column 2, row 1 -> 6; the
  // right and bottom edges belong to the last cell.
  const auto places = torch::tensor({0.1f, 0.9f, 0.6f, 0.3f, 1.0f, 1.0f, 0.0f, 0.0f}).view({4, 2});
  const auto cells = pointing_cells(places, 4);
  EXPECT_EQ(cells[0].item<int64_t>(), 12);
  EXPECT_EQ(cells[1].item<int64_t>(), 6);
  EXPECT_EQ(cells[2].item<int64_t>(), 15);
  EXPECT_EQ(cells[3].item<int64_t>(), 0);
  torch::manual_seed(4);
  const auto logits = torch::randn({3, 16});
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto targets = torch::tensor({0.1f, 0.9f, nan, nan, 0.6f, 0.3f}).view({3, 2});
  const double expected = -(torch::log_softmax(logits[0], 0)[12].item<double>() +
                            torch::log_softmax(logits[2], 0)[6].item<double>()) / 2.0;
  EXPECT_NEAR(pointing_loss(logits, targets).item<double>(), expected, 1e-6);
  EXPECT_EQ(pointing_loss(logits, torch::full({3, 2}, nan)).item<double>(), 0.0);
  EXPECT_THROW(pointing_loss(torch::randn({3, 15}), targets), c10::Error);  // not a square grid
}

TEST(ActionHead, PointingLogitsCoverThePatchGridAndTrainTheInstructionsPath) {
  Policy policy = policy_of(action_config(0, 2), 6);
  auto& head = policy.head();
  const ModelOutput& output = policy.output;
  const auto logits = head.pointing_logits(output);
  // The ViT's 16 px image in 8 px patches: 4 cells, its class token left out.
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 4}));
  pointing_loss(logits, torch::tensor({0.2f, 0.2f, 0.7f, 0.9f}).view({2, 2})).backward();
  EXPECT_TRUE(policy.model->text().parameters().front().grad().defined());
  EXPECT_TRUE(policy.model->vision().parameters().front().grad().defined());
}

TEST(ActionHead, PointingFromWordsSumsEachNonPaddingTokensScoresOverThePatches) {
  ModelConfig config = action_config(0, 2);
  config.head.point = "words";
  Policy policy = policy_of(config, 7);
  auto& head = policy.head();
  const ModelOutput& output = policy.output;
  const auto logits = head.pointing_logits(output);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 4}));
  // By hand: the patches' keys (the class token left out), each word's query, the scores of the
  // words that are not padding summed.
  auto params = head.named_parameters();
  const auto patches = output.image.tokens.narrow(1, 1, 4).to(torch::kFloat);                  // [2,4,D]
  const auto keys = torch::matmul(patches, params["key.weight"].t()) + params["key.bias"];       // [2,4,D]
  const auto words = output.text.tokens.to(torch::kFloat);                                      // [2,6,Dt]
  const auto queries = torch::matmul(words, params["word_query.weight"].t()) + params["word_query.bias"];
  const double scale = 1.0 / std::sqrt(static_cast<double>(keys.size(2)));
  for (int64_t b = 0; b < 2; ++b) {
    auto expected = torch::zeros({4});
    for (int64_t t = 0; t < 6; ++t) {
      if (kTokens[b][t].item<int64_t>() == 0) continue;  // padding
      expected += torch::matmul(keys[b], queries[b][t]) * scale;
    }
    EXPECT_TRUE(torch::allclose(logits[b], expected, 1e-4, 1e-5)) << logits[b] << expected;
  }
  pointing_loss(logits, torch::tensor({0.2f, 0.2f, 0.7f, 0.9f}).view({2, 2})).backward();
  EXPECT_TRUE(params["word_query.weight"].grad().defined());
  EXPECT_TRUE(policy.model->text().parameters().front().grad().defined());
}

}  // namespace
}  // namespace mmtrain
