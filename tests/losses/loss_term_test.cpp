// The loss term registry: the built-in terms' descriptors, and a term registered by the test that
// compute_loss finds by name.
#include "mmtrain/losses/loss_term.h"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/losses/loss.h"
#include "support/error_message.h"
#include "support/scoped_registration.h"

namespace mmtrain {
namespace {

MultimodalModel small_model() {
  torch::manual_seed(3);
  ModelConfig config;
  config.embed_dim = 8;
  config.vision = VisionConfig{"vit", 16, 8, 16, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 6, 16, 1, 2, 4.0, "gelu"};
  return build_model(config, TextVocab{20, 3});
}

ModelOutput run(MultimodalModel& model) {
  auto tokens = torch::tensor({{2, 5, 6, 3, 0, 0}, {2, 7, 3, 0, 0, 0}}, torch::kLong);
  return model->forward(torch::randn({2, 3, 16, 16}), tokens);
}

LossConfig terms(std::vector<LossTerm> list) {
  LossConfig config;
  config.terms = std::move(list);
  return config;
}

// Mean squared distance between each image's and its caption's embedding: a real term, simple
// enough to compute again in the test.
torch::Tensor pair_distance(const ModelOutput& out) {
  return (out.image_embeds - out.text_embeds).pow(2).sum(1).mean();
}

LossTermDescriptor builtin(const std::string& name) {
  register_builtin_loss_terms();
  return loss_term_registry().find(name, "loss.terms").descriptor;
}

TEST(LossTermRegistry, ClipRunsOnSeveralProcessesAndAccumulates) {
  const auto clip = builtin("clip");
  EXPECT_TRUE(clip.runs_on_several_processes);
  EXPECT_FALSE(clip.needs.any());
  EXPECT_TRUE(clip.learned_scalars.empty());
  EXPECT_EQ(clip.why_not_accumulable(), "");
}

TEST(LossTermRegistry, SiglipLearnsItsScaleAndBiasFromThePapersValues) {
  const auto siglip = builtin("siglip");
  ASSERT_EQ(siglip.learned_scalars.size(), 2u);
  EXPECT_EQ(siglip.learned_scalars[0].name, "siglip_log_scale");
  EXPECT_DOUBLE_EQ(siglip.learned_scalars[0].initial, std::log(10.0));
  EXPECT_EQ(siglip.learned_scalars[1].name, "siglip_bias");
  EXPECT_DOUBLE_EQ(siglip.learned_scalars[1].initial, -10.0);
  EXPECT_FALSE(siglip.runs_on_several_processes);
  EXPECT_NE(siglip.why_not_accumulable().find("siglip_log_scale, siglip_bias"), std::string::npos);
}

TEST(LossTermRegistry, ItmNeedsTheMatchHeadAndTokenOutputs) {
  const auto itm = builtin("itm");
  EXPECT_TRUE(itm.needs.match_head);
  EXPECT_TRUE(itm.needs.vision_tokens);
  EXPECT_TRUE(itm.needs.text_tokens);
  EXPECT_FALSE(itm.runs_on_several_processes);
  EXPECT_NE(itm.why_not_accumulable().find("cached micro-batches keep the embeddings alone"), std::string::npos);
}

TEST(LossTermRegistry, ATestRegisteredTermIsComputedByNameAndWeighted) {
  test::ScopedRegistration term(loss_term_registry(), "pair_distance",
                                LossTermEntry{LossTermDescriptor{},
                                              [](const LossTermInputs& in) { return pair_distance(in.output); }});
  auto model = small_model();
  const auto out = run(model);
  const auto result = compute_loss(terms({{"clip", 1.0}, {"pair_distance", 2.0}}), out, *model);
  ASSERT_EQ(result.terms.size(), 2u);
  EXPECT_EQ(result.terms[1].first, "pair_distance");
  EXPECT_NEAR(result.terms[1].second.item<double>(), pair_distance(out).item<double>(), 1e-6);
  EXPECT_NEAR(result.total.item<double>(),
              result.terms[0].second.item<double>() + 2.0 * pair_distance(out).item<double>(), 1e-5);
}

TEST(LossTermRegistry, ATestRegisteredTermsLearnedScalarIsAttachedAndGetsAGradient) {
  LossTermDescriptor descriptor;
  descriptor.learned_scalars = {{"distance_scale", 0.5}};
  test::ScopedRegistration term(
      loss_term_registry(), "scaled_distance",
      LossTermEntry{descriptor, [](const LossTermInputs& in) {
                      return in.learned("distance_scale") * pair_distance(in.output);
                    }});
  auto model = small_model();
  const auto config = terms({{"scaled_distance", 1.0}});
  attach_loss_parameters(*model, config);
  const auto out = run(model);
  const auto result = compute_loss(config, out, *model);
  EXPECT_NEAR(result.total.item<double>(), 0.5 * pair_distance(out).item<double>(), 1e-6);
  result.total.backward();
  EXPECT_TRUE(model->named_parameters()["loss.distance_scale"].grad().defined());
}

TEST(LossTermRegistry, AnUnknownTermInComputeLossListsTheRegisteredTerms) {
  auto model = small_model();
  const auto out = run(model);
  const std::string message =
      test::error_message<ConfigError>([&] { compute_loss(terms({{"mse", 1.0}}), out, *model); });
  EXPECT_EQ(message, "loss.terms: unknown loss term 'mse' (valid: clip, siglip, itm, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce, action_point)");
}

}  // namespace
}  // namespace mmtrain
