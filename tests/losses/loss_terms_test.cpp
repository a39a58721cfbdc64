// compute_loss: the terms of loss.terms on a real model's outputs, weighted as configured.
#include "mmtrain/losses/loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/errors.h"
#include "mmtrain/losses/siglip_loss.h"
#include "mmtrain/models/registry.h"
#include "support/error_message.h"
#include "support/scoped_registration.h"

namespace mmtrain {
namespace {

MultimodalModel small_model(const std::string& fusion) {
  torch::manual_seed(5);
  ModelConfig config;
  config.embed_dim = 16;
  config.vision = VisionConfig{"vit", 16, 8, 32, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 6, 32, 1, 2, 4.0, "gelu"};
  config.fusion = FusionConfig{fusion, 32, 1, 2};
  return build_model(config, TextVocab{20, 3});
}

ModelOutput run(MultimodalModel& model) {
  auto tokens = torch::tensor({{2, 5, 6, 3, 0, 0}, {2, 7, 3, 0, 0, 0}, {2, 8, 9, 10, 3, 0}}, torch::kLong);
  return model->forward(torch::randn({3, 3, 16, 16}), tokens);
}

LossConfig terms(std::vector<LossTerm> list, const std::string& balance = "fixed") {
  LossConfig config;
  config.terms = std::move(list);
  config.balance = balance;
  return config;
}

TEST(LossTerms, SiglipUsesTheAttachedScaleAndBias) {
  auto model = small_model("late");
  const auto config = terms({{"siglip", 1.0}});
  attach_loss_parameters(*model, config);
  const auto out = run(model);
  const auto result = compute_loss(config, out, *model);
  const auto expected = siglip_loss(out.image_embeds, out.text_embeds, torch::full({}, kSiglipInitLogScale),
                                    torch::full({}, kSiglipInitBias));
  EXPECT_NEAR(result.total.item<double>(), expected.item<double>(), 1e-6);
  result.total.backward();
  EXPECT_TRUE(model->named_parameters()["loss.siglip_bias"].grad().defined());
}

TEST(LossTerms, FixedWeightsSumTheWeightedTermsAndReportEachUnweighted) {
  auto model = small_model("late");
  const auto config = terms({{"clip", 0.5}, {"siglip", 2.0}});
  attach_loss_parameters(*model, config);
  const auto result = compute_loss(config, run(model), *model);
  ASSERT_EQ(result.terms.size(), 2u);
  const double expected = 0.5 * result.terms[0].second.item<double>() + 2.0 * result.terms[1].second.item<double>();
  EXPECT_NEAR(result.total.item<double>(), expected, 1e-5);
}

TEST(LossTerms, UncertaintyBalanceStartsAsThePlainSumAndLearnsLogVariances) {
  auto model = small_model("late");
  const auto config = terms({{"clip", 1.0}, {"siglip", 1.0}}, "uncertainty");
  attach_loss_parameters(*model, config);
  const auto result = compute_loss(config, run(model), *model);
  const double sum = result.terms[0].second.item<double>() + result.terms[1].second.item<double>();
  EXPECT_NEAR(result.total.item<double>(), sum, 1e-5);  // log-variances start at 0
  result.total.backward();
  EXPECT_TRUE(model->named_parameters()["loss.log_vars"].grad().defined());
}

TEST(LossTerms, ImageTextMatchingNeedsAFusedModel) {
  auto model = small_model("late");
  const auto config = terms({{"itm", 1.0}});
  try {
    compute_loss(config, run(model), *model);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("loss.terms.itm: this fusion has no match head"), std::string::npos);
  }
}

// The refusals below are built from the terms' descriptors and the fusions' registry entries.

TEST(LossRefusals, ItmOnLateFusionNamesTheFusionTypesWithAMatchHead) {
  auto model = small_model("late");
  const std::string message =
      test::error_message<ConfigError>([&] { check_loss_fits_model(terms({{"clip", 1.0}, {"itm", 1.0}}), *model); });
  EXPECT_EQ(message, "loss.terms.itm: this fusion has no match head (use model.fusion.type early or cross_attention)");
}

TEST(LossRefusals, ItmFitsAFusedModel) {
  auto model = small_model("cross_attention");
  EXPECT_NO_THROW(check_loss_fits_model(terms({{"clip", 1.0}, {"itm", 1.0}}), *model));
}

TEST(LossRefusals, SiglipOnSeveralProcessesNamesTheTermsThatCan) {
  const std::string message =
      test::error_message<ConfigError>([&] { check_loss_runs_on_several_processes(terms({{"siglip", 1.0}})); });
  EXPECT_EQ(message,
            "loss.terms.siglip: this term needs the whole batch on one process; training on several processes "
            "takes terms that compute their share against every rank's embeddings (clip, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce, action_point)");
  EXPECT_NO_THROW(check_loss_runs_on_several_processes(terms({{"clip", 1.0}})));
}

TEST(LossRefusals, ATermWhoseDescriptorRunsOnSeveralProcessesIsAcceptedAndOffered) {
  LossTermDescriptor descriptor;
  descriptor.runs_on_several_processes = true;
  test::ScopedRegistration term(loss_term_registry(), "gathered_test_term",
                                LossTermEntry{descriptor, [](const LossTermInputs& in) {
                                                return in.output.image_embeds.sum() * 0.0;
                                              }});
  EXPECT_NO_THROW(check_loss_runs_on_several_processes(terms({{"gathered_test_term", 1.0}})));
  const std::string message =
      test::error_message<ConfigError>([&] { check_loss_runs_on_several_processes(terms({{"itm", 1.0}})); });
  EXPECT_NE(message.find("(clip, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce, action_point, gathered_test_term)"), std::string::npos) << message;
}

TEST(LossRefusals, ComputeLossWithGatheredEmbeddingsRefusesATermThatCannotUseThem) {
  auto model = small_model("late");
  const auto config = terms({{"siglip", 1.0}});
  attach_loss_parameters(*model, config);
  const auto out = run(model);
  const GlobalEmbeddings global{out.image_embeds, out.text_embeds, 0};
  const std::string message = test::error_message<ConfigError>([&] { compute_loss(config, out, *model, &global); });
  EXPECT_EQ(message.rfind("loss.terms.siglip: this term needs the whole batch on one process", 0), 0u) << message;
}

TEST(LossRefusals, SiglipWithAccumulationNamesItsLearnedScalars) {
  const std::string message =
      test::error_message<ConfigError>([&] { check_loss_accumulates(terms({{"clip", 1.0}, {"siglip", 1.0}})); });
  EXPECT_EQ(message,
            "train.accum_steps: loss term 'siglip' cannot be summed over cached micro-batches: every micro-batch's "
            "backward would add the whole gradient of its learned scalars (siglip_log_scale, siglip_bias) "
            "(terms that can: clip, caption, vqa, vqa_ce, vqa_point, action_l1, action_ce, action_point); use 1");
}

TEST(LossRefusals, ItmWithAccumulationSaysCachedMicroBatchesKeepTheEmbeddingsAlone) {
  const std::string message =
      test::error_message<ConfigError>([&] { check_loss_accumulates(terms({{"itm", 1.0}})); });
  EXPECT_NE(message.find("train.accum_steps: loss term 'itm' cannot be summed over cached micro-batches: it reads "
                         "the model's token outputs or match head"),
            std::string::npos)
      << message;
}

TEST(LossRefusals, UncertaintyBalanceWithAccumulationIsRefusedAndClipAloneIsAccepted) {
  EXPECT_NO_THROW(check_loss_accumulates(terms({{"clip", 1.0}})));
  const std::string message =
      test::error_message<ConfigError>([&] { check_loss_accumulates(terms({{"clip", 1.0}}, "uncertainty")); });
  EXPECT_EQ(message.rfind("train.accum_steps: loss.balance uncertainty learns one log-variance per term", 0), 0u)
      << message;
}

}  // namespace
}  // namespace mmtrain
