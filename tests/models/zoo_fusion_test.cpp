#include <algorithm>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/models/cross_attention_fusion.h"
#include "mmtrain/models/early_fusion.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/models/zoo_fusion.h"

namespace mmtrain {
namespace {

constexpr int64_t kBatch = 3;
constexpr int kImageWidth = 16, kImageTokens = 5;
constexpr int kTextWidth = 24, kTextTokens = 7;
constexpr int kEmbedDim = 8;

FusionDims small_dims() {
  return FusionDims().image_width(kImageWidth).text_width(kTextWidth).embed_dim(kEmbedDim);
}

std::shared_ptr<MatchFusionImpl> make_fusion(const std::string& type, const FusionDims& dims = small_dims()) {
  const MatchFusionOptions options = MatchFusionOptions(dims).width(32).layers(2).heads(4);
  if (type == "early") return std::make_shared<EarlyFusionImpl>(options);
  return std::make_shared<CrossAttentionFusionImpl>(options);
}

// Small towers around a fusion of `type` of one block, 32 wide.
ModelConfig small_model_config(const std::string& type) {
  ModelConfig config;
  config.embed_dim = kEmbedDim;
  config.vision = VisionConfig{"vit", 32, 16, 16, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 8, 24, 1, 2, 4.0, "gelu"};
  config.fusion = FusionConfig{type, 32, 1, 4};
  return config;
}

Encoded image_batch() {
  return Encoded{torch::randn({kBatch, kImageTokens, kImageWidth}),
                 torch::randn({kBatch, kImageWidth}), {}};
}

// Rows hold 7, 4 and 2 real tokens; the rest is padding.
Encoded text_batch() {
  auto lengths = torch::tensor({7, 4, 2}, torch::kLong).unsqueeze(1);                 // [B,1]
  auto pad_mask = torch::arange(kTextTokens, torch::kLong).unsqueeze(0) >= lengths;  // [B,T]
  return Encoded{torch::randn({kBatch, kTextTokens, kTextWidth}),
                 torch::randn({kBatch, kTextWidth}), pad_mask};
}

class ZooFusion : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_P(ZooFusion, MatchesAlignedPairsAndKeepsUnitEmbeddings) {
  auto fusion = make_fusion(GetParam());
  auto image = image_batch();
  auto text = text_batch();
  EXPECT_TRUE(fusion->has_match());
  EXPECT_EQ(fusion->match(image, text).sizes(), (std::vector<int64_t>{kBatch}));
  for (const auto& embeds : {fusion->embed_image(image), fusion->embed_text(text)}) {
    EXPECT_EQ(embeds.sizes(), (std::vector<int64_t>{kBatch, kEmbedDim}));
    EXPECT_TRUE(torch::allclose(embeds.norm(2, -1), torch::ones({kBatch}), 1e-5, 1e-5));
  }
}

TEST_P(ZooFusion, EveryParameterGetsAGradient) {
  auto fusion = make_fusion(GetParam());
  auto image = image_batch();
  auto text = text_batch();
  // logit_scale joins the sum: a contrastive loss is what trains it.
  auto loss = fusion->match(image, text).sum() + fusion->embed_image(image).sum() +
              fusion->embed_text(text).sum() + fusion->logit_scale();
  loss.backward();
  for (const auto& param : fusion->named_parameters()) {
    ASSERT_TRUE(param.value().grad().defined()) << param.key();
    EXPECT_GT(param.value().grad().abs().sum().item<double>(), 0.0) << param.key();
  }
}

TEST_P(ZooFusion, PaddedTextPositionsDoNotChangeTheMatch) {
  auto fusion = make_fusion(GetParam());
  auto image = image_batch();
  auto text = text_batch();
  auto before = fusion->match(image, text);

  auto padded = text.pad_mask.unsqueeze(-1);  // [B,T,1]
  Encoded changed_padding = text;
  changed_padding.tokens = torch::where(padded, 10.0 * torch::randn_like(text.tokens), text.tokens);
  EXPECT_LT((fusion->match(image, changed_padding) - before).abs().max().item<double>(), 1e-6);

  // The check above must be able to fail: the same change at real tokens moves the scores.
  Encoded changed_tokens = text;
  changed_tokens.tokens = torch::where(padded, text.tokens, 10.0 * torch::randn_like(text.tokens));
  EXPECT_GT((fusion->match(image, changed_tokens) - before).abs().max().item<double>(), 1e-4);
}

TEST_P(ZooFusion, TowerSidesAreTheDualEncodersProjections) {
  auto fusion = make_fusion(GetParam());
  auto params = fusion->named_parameters();
  ASSERT_EQ(fusion->image_side_parameters().size(), 1u);
  ASSERT_EQ(fusion->text_side_parameters().size(), 1u);
  EXPECT_TRUE(fusion->image_side_parameters()[0].is_same(params["dual.image_projection"]));
  EXPECT_TRUE(fusion->text_side_parameters()[0].is_same(params["dual.text_projection"]));
}

TEST_P(ZooFusion, ClampsTheDualEncodersLogitScale) {
  auto fusion = make_fusion(GetParam());
  {
    torch::NoGradGuard no_grad;
    fusion->named_parameters()["dual.logit_scale"].fill_(10.0);
  }
  fusion->clamp_parameters();
  EXPECT_NEAR(fusion->logit_scale().item<double>(), 100.0, 1e-3);
}

// FusionDims are set by name; one forgotten stays 0 and must not build a fusion with empty
// projections.
TEST_P(ZooFusion, RefusesFusionDimsLeftUnset) {
  const FusionDims no_embed_dim = FusionDims().image_width(kImageWidth).text_width(kTextWidth);
  try {
    make_fusion(GetParam(), no_embed_dim);
    FAIL() << "expected an error";
  } catch (const c10::Error& error) {
    EXPECT_NE(std::string(error.what()).find("must all be positive, found 16, 24, 0"), std::string::npos)
        << error.what();
  }
}

TEST_P(ZooFusion, BuildsByNameAndMatchesTowerOutputs) {
  register_zoo_fusion();
  auto model = build_model(small_model_config(GetParam()), TextVocab{50, 3});
  ASSERT_TRUE(model->fusion().has_match());

  auto tokens = torch::tensor({{2, 7, 8, 3, 0, 0, 0, 0}, {2, 9, 3, 0, 0, 0, 0, 0}}, torch::kLong);
  auto out = model->forward(torch::randn({2, 3, 32, 32}), tokens);
  EXPECT_EQ(model->fusion().match(out.image, out.text).sizes(), (std::vector<int64_t>{2}));
}

// model.fusion.mlp_ratio reaches the fusion encoder's MLP: 32 wide at ratio 2 is 64 hidden units,
// where the 4.0 once hard-coded in the factory gave 128.
TEST_P(ZooFusion, ConfigMlpRatioSetsTheFusionEncodersMlpWidth) {
  ModelConfig config = small_model_config(GetParam());
  config.fusion.mlp_ratio = 2.0;
  auto params = build_model(config, TextVocab{50, 3})->named_parameters();
  const std::string c_fc = GetParam() == std::string("early") ? "fusion.transformer.resblocks.0.mlp.c_fc.weight"
                                                               : "fusion.blocks.0.mlp.c_fc.weight";
  ASSERT_NE(params.find(c_fc), nullptr) << c_fc;
  EXPECT_EQ(params[c_fc].sizes(), (std::vector<int64_t>{64, 32}));  // [hidden, width]
}

INSTANTIATE_TEST_SUITE_P(Types, ZooFusion, ::testing::Values("early", "cross_attention"));

TEST(ZooFusionRegistry, AddsBothFusedTypesNextToLate) {
  register_builtin_models();
  register_zoo_fusion();
  auto types = fusion_types();
  for (const char* type : {"late", "early", "cross_attention"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << type;
  }
}

}  // namespace
}  // namespace mmtrain
