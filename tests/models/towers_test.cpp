#include <algorithm>
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/errors.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/models/text_transformer.h"
#include "mmtrain/models/vit.h"
#include "support/relative_error.h"

namespace mmtrain {
namespace {

constexpr int kEos = 3;  // int like the other literals: torch::tensor wants one scalar type

TextTransformer small_text_tower() {
  return TextTransformer(TextTransformerOptions(50, kEos).context_length(12).width(32).layers(2).heads(4));
}

// 32x32 images in 8x8 patches: 16 patch tokens, class-token pooling.
Vit small_vit() { return Vit(VitOptions(32).patch_size(8).width(48).layers(2).heads(4)); }

TEST(Vit, ReturnsClassPlusPatchTokensAndPooledClassToken) {
  auto vit = small_vit();
  auto out = vit->forward(torch::randn({3, 3, 32, 32}));
  EXPECT_EQ(out.tokens.sizes(), (std::vector<int64_t>{3, 1 + 16, 48}));
  EXPECT_EQ(out.pooled.sizes(), (std::vector<int64_t>{3, 48}));
  EXPECT_TRUE(torch::equal(out.pooled, out.tokens.select(1, 0)));
}

TEST(Vit, MeanPoolingAveragesThePatchTokens) {
  Vit vit(VitOptions(32).patch_size(16).width(32).layers(1).heads(2).act(Activation::QuickGelu).pool(Pooling::Mean));
  auto out = vit->forward(torch::randn({2, 3, 32, 32}));
  EXPECT_TRUE(torch::allclose(out.pooled, out.tokens.slice(1, 1).mean(1)));
}

// With no blocks every output token depends on its own input token alone, so the training pass's
// tokens can be found among the evaluation pass's.
TEST(Vit, PatchDropoutKeepsTheClassTokenAndARandomHalfOfThePatchesWhileTrainingOnly) {
  torch::manual_seed(2);
  Vit vit(VitOptions(32).patch_size(8).width(16).layers(0).heads(2).patch_dropout(0.5));
  const auto images = torch::randn({3, 3, 32, 32});
  vit->eval();
  const auto all = vit->forward(images).tokens;  // [3,17,16]
  vit->train();
  torch::manual_seed(7);
  const auto kept = vit->forward(images).tokens;
  ASSERT_EQ(kept.sizes(), (std::vector<int64_t>{3, 1 + 8, 16}));
  std::set<std::vector<int64_t>> selections;
  for (int64_t b = 0; b < 3; ++b) {
    EXPECT_TRUE(torch::allclose(kept[b][0], all[b][0], 1e-5, 1e-6)) << "the class token comes first";
    std::vector<int64_t> rows;
    for (int64_t k = 1; k <= 8; ++k) {
      const auto distance = (all[b] - kept[b][k]).abs().amax(1);  // [17]
      const int64_t row = distance.argmin().item<int64_t>();
      EXPECT_LT(distance[row].item<double>(), 1e-5);
      EXPECT_GE(row, 1) << "a patch, never the class token again";
      rows.push_back(row);
    }
    std::sort(rows.begin(), rows.end());
    EXPECT_EQ(std::unique(rows.begin(), rows.end()), rows.end()) << "each patch at most once";
    selections.insert(rows);
  }
  EXPECT_GT(selections.size(), 1u) << "each image draws its own patches";
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(vit->forward(images).tokens, kept)) << "the seed decides the draw";
}

TEST(TextTransformer, PoolsAtTheEndOfTextTokenAndMasksWhatFollows) {
  auto tower = small_text_tower();
  auto tokens = torch::tensor({{2, 7, 8, kEos, 0, 0}, {2, 9, kEos, 0, 0, 0}}, torch::kLong);
  auto out = tower->forward(tokens);
  EXPECT_EQ(out.tokens.sizes(), (std::vector<int64_t>{2, 6, 32}));
  EXPECT_TRUE(torch::equal(out.pooled[0], out.tokens[0][3]));
  EXPECT_TRUE(torch::equal(out.pooled[1], out.tokens[1][2]));
  auto expected_mask = torch::tensor({{0, 0, 0, 0, 1, 1}, {0, 0, 0, 1, 1, 1}}).to(torch::kBool);
  EXPECT_TRUE(torch::equal(out.pad_mask, expected_mask));
}

// vocab_size and eos_id are the options' two positional values, both int64: passed the wrong way
// round, the end-of-text id falls outside the vocabulary.
TEST(TextTransformer, RefusesAnEndOfTextIdOutsideTheVocabulary) {
  try {
    TextTransformer(TextTransformerOptions(kEos, 50).width(32).layers(1).heads(4));
    FAIL() << "expected an error";
  } catch (const c10::Error& error) {
    EXPECT_NE(std::string(error.what()).find("eos_id 50 is not an id of the 3-token vocabulary"), std::string::npos)
        << error.what();
  }
}

TEST(TextTransformer, IsCausalSoLaterTokensDoNotChangeEarlierOutputs) {
  auto tower = small_text_tower();
  auto a = torch::tensor({{2, 7, 8, 9, kEos}}, torch::kLong);
  auto b = torch::tensor({{2, 7, 8, 11, kEos}}, torch::kLong);
  auto out_a = tower->forward(a).tokens;
  auto out_b = tower->forward(b).tokens;
  EXPECT_TRUE(torch::allclose(out_a.slice(1, 0, 3), out_b.slice(1, 0, 3), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(out_a.select(1, 3), out_b.select(1, 3)));
}

// The pooled output and every parameter's gradient of a weighted sum of it, by one of the two paths.
struct PooledRun {
  torch::Tensor pooled;
  std::vector<torch::Tensor> grads;
};

template <typename Tower, typename Forward>
PooledRun pooled_run(Tower& tower, Forward forward) {
  tower->zero_grad();
  torch::manual_seed(5);
  auto pooled = forward();
  (pooled * torch::randn(pooled.sizes())).sum().backward();
  PooledRun run{pooled.detach(), {}};
  for (const auto& p : tower->parameters()) run.grads.push_back(p.grad().clone());
  return run;
}

void expect_same_run(const PooledRun& pruned, const PooledRun& full) {
  EXPECT_TRUE(torch::allclose(pruned.pooled, full.pooled, 1e-5, 1e-5));
  ASSERT_EQ(pruned.grads.size(), full.grads.size());
  for (size_t i = 0; i < full.grads.size(); ++i) {
    // Relative to the gradient's largest entry: the two paths sum the same terms in another order,
    // so an entry that cancels to near zero differs by rounding well above a per-element 1e-5.
    EXPECT_LT(test::relative_error(pruned.grads[i], full.grads[i]), 1e-5) << "parameter " << i;
  }
}

// forward_pooled runs the last block for the class token only: the same output and gradients.
TEST(Vit, ForwardPooledGivesTheClassTokenAndGradientsOfTheFullForward) {
  auto vit = small_vit();
  const auto images = torch::randn({3, 3, 32, 32});
  expect_same_run(pooled_run(vit, [&] { return vit->forward_pooled(images); }),
                  pooled_run(vit, [&] { return vit->forward(images).pooled; }));
}

// ... and for the end-of-text token, each sequence's at its own position under the causal mask.
TEST(TextTransformer, ForwardPooledGivesTheEndOfTextTokenAndGradientsOfTheFullForward) {
  auto tower = small_text_tower();
  const auto tokens = torch::tensor({{2, 7, 8, kEos, 0, 0}, {2, 9, kEos, 0, 0, 0}, {2, 4, 5, 6, 7, kEos}}, torch::kLong);
  expect_same_run(pooled_run(tower, [&] { return tower->forward_pooled(tokens); }),
                  pooled_run(tower, [&] { return tower->forward(tokens).pooled; }));
}

ModelConfig small_model_config() {
  ModelConfig config;
  config.embed_dim = 16;
  config.vision = VisionConfig{"vit", 32, 16, 32, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 8, 24, 1, 2, 4.0, "gelu"};
  return config;
}

TEST(MultimodalModel, GivesUnitLengthEmbeddingsOfEmbedDimAndTheInitialScale) {
  auto model = build_model(small_model_config(), TextVocab{40, kEos});
  auto tokens = torch::tensor({{2, 5, kEos, 0}, {2, 6, 7, kEos}}, torch::kLong);
  auto out = model->forward(torch::randn({2, 3, 32, 32}), tokens);
  EXPECT_EQ(out.image_embeds.sizes(), (std::vector<int64_t>{2, 16}));
  EXPECT_EQ(out.text_embeds.sizes(), (std::vector<int64_t>{2, 16}));
  EXPECT_TRUE(torch::allclose(out.image_embeds.norm(2, 1), torch::ones({2}), 1e-5, 1e-5));
  EXPECT_NEAR(out.logit_scale.item<double>(), 1.0 / 0.07, 1e-3);
}

TEST(MultimodalModel, EveryParameterReceivesAGradient) {
  auto model = build_model(small_model_config(), TextVocab{40, kEos});
  auto tokens = torch::tensor({{2, 5, kEos, 0}, {2, 6, 7, kEos}}, torch::kLong);
  auto out = model->forward(torch::randn({2, 3, 32, 32}), tokens);
  (out.logit_scale * torch::matmul(out.image_embeds, out.text_embeds.t())).logsumexp(1).sum().backward();
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
  }
}

// Late fusion's modality dropout: a missing row's embedding is the placeholder's, the same for
// every missing row and learned; the other rows are as without the mask.
TEST(MultimodalModel, MissingRowsTakeTheLearnedPlaceholdersAndTheOthersAreUnchanged) {
  torch::manual_seed(4);
  auto model = build_model(small_model_config(), TextVocab{40, kEos});
  model->add_placeholders();
  const auto images = torch::randn({3, 3, 32, 32});
  const auto tokens = torch::tensor({{2, 5, kEos, 0}, {2, 6, 7, kEos}, {2, 8, kEos, 0}}, torch::kLong);
  const auto plain = model->forward(images, tokens);
  MissingInputs missing;
  missing.images = torch::tensor({true, false, true});
  missing.texts = torch::tensor({false, true, false});
  const auto out = model->forward(images, tokens, missing);
  EXPECT_TRUE(torch::allclose(out.image_embeds[1], plain.image_embeds[1], 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(out.text_embeds[0], plain.text_embeds[0], 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(out.image_embeds[0], out.image_embeds[2]));
  EXPECT_FALSE(torch::allclose(out.image_embeds[0], plain.image_embeds[0], 1e-3, 1e-3));
  (out.logit_scale * torch::matmul(out.image_embeds, out.text_embeds.t())).logsumexp(1).sum().backward();
  for (const auto& item : model->named_parameters()) {
    if (item.key().rfind("placeholders.", 0) == 0) {
      ASSERT_TRUE(item.value().grad().defined()) << item.key();
      EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
    }
  }
  const auto parameters = model->named_parameters();  // find() points into it
  EXPECT_EQ(parameters.find("placeholders.image")->size(0), model->vision().width());
}

TEST(Registry, UnknownTowerTypeIsRejectedWithTheValidOnes) {
  auto config = small_model_config();
  config.vision.type = "vitt";
  try {
    build_model(config, TextVocab{40, kEos});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("model.vision.type: unknown type 'vitt' (valid: vit, resnet, convnet)"),
              std::string::npos)
        << error.what();
  }
}

TEST(Registry, NamesFollowOpenClipsLayout) {
  auto model = build_model(small_model_config(), TextVocab{40, kEos});
  auto params = model->named_parameters();
  for (const char* name : {"vision.conv1.weight", "vision.class_embedding", "vision.ln_post.weight",
                           "vision.transformer.resblocks.0.attn.in_proj_weight",
                           "vision.transformer.resblocks.0.mlp.c_fc.weight",
                           "text.token_embedding.weight", "text.positional_embedding",
                           "text.ln_final.bias", "fusion.logit_scale"}) {
    EXPECT_NE(params.find(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace mmtrain
