// The caption decoder and its loss: next-token logits that see only earlier tokens and do see the
// image, a cross-entropy that matches a direct computation and ignores padding, and gradients
// over cached micro-batches equal to the whole batch's.
#include "mmtrain/heads/caption_decoder.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "mmtrain/losses/caption_loss.h"
#include "mmtrain/losses/loss.h"
#include "mmtrain/train/accumulation.h"
#include "support/caption_model.h"
#include "support/error_message.h"

namespace mmtrain {
namespace {

constexpr int64_t kVocab = 12;

torch::Tensor logits_of(MultimodalModelImpl& model, const torch::Tensor& images, const torch::Tensor& tokens) {
  return model.head()->forward(model.forward(images, tokens));  // [B,L,V]
}

TEST(CaptionDecoder, PositionTLogitsDependOnTokensUpToTOnly) {
  auto model = test::caption_model(kVocab);
  const auto images = torch::randn({1, 3, 16, 16});
  const auto a = torch::tensor({{10, 1, 2, 3, 11, 0, 0, 0}}, torch::kLong);
  auto b = a.clone();
  b[0][3] = 7;  // a later token changes
  torch::NoGradGuard no_grad;
  const auto la = logits_of(*model, images, a), lb = logits_of(*model, images, b);
  EXPECT_TRUE(torch::allclose(la.slice(1, 0, 3), lb.slice(1, 0, 3), 0, 1e-6));
  EXPECT_GT((la.select(1, 3) - lb.select(1, 3)).abs().max().item<double>(), 1e-4);
}

TEST(CaptionDecoder, LogitsDependOnTheImage) {
  auto model = test::caption_model(kVocab);
  const auto tokens = torch::tensor({{10, 1, 2, 11, 0, 0, 0, 0}}, torch::kLong);
  torch::NoGradGuard no_grad;
  const auto first = logits_of(*model, torch::randn({1, 3, 16, 16}), tokens);
  const auto second = logits_of(*model, torch::randn({1, 3, 16, 16}), tokens);
  EXPECT_GT((first - second).abs().max().item<double>(), 1e-4);
}

// The loss written out token by token in double precision: -log softmax at each target that
// is not padding, averaged; with smoothing eps, (1-eps) of that plus eps of the mean -log p over
// the vocabulary.
double direct_caption_loss(const torch::Tensor& logits, const torch::Tensor& ids, const torch::Tensor& pad, double eps) {
  const auto log_p = torch::log_softmax(logits.to(torch::kDouble), -1);
  double total = 0;
  int count = 0;
  for (int64_t b = 0; b < ids.size(0); ++b) {
    for (int64_t t = 0; t + 1 < ids.size(1); ++t) {
      if (pad[b][t + 1].item<bool>()) continue;
      const double nll = -log_p[b][t][ids[b][t + 1].item<int64_t>()].item<double>();
      const double uniform = -log_p[b][t].mean().item<double>();
      total += (1 - eps) * nll + eps * uniform;
      ++count;
    }
  }
  return total / count;
}

TEST(CaptionLoss, MatchesTheDirectComputationAndIgnoresPadding) {
  torch::manual_seed(1);
  const auto logits = torch::randn({2, 6, kVocab});
  const auto ids = torch::tensor({{10, 4, 5, 11, 0, 0}, {10, 3, 11, 0, 0, 0}}, torch::kLong);
  const auto pad = torch::tensor({{false, false, false, false, true, true}, {false, false, false, true, true, true}});
  for (double eps : {0.0, 0.1}) {
    EXPECT_NEAR(caption_loss(logits, ids, pad, eps).item<double>(), direct_caption_loss(logits, ids, pad, eps), 1e-5)
        << "label smoothing " << eps;
  }
  // Whatever the logits at padded targets, the loss is the same.
  auto changed = logits.clone();
  changed[1][4] = 100.0;
  changed[0][5] = -50.0;
  EXPECT_NEAR(caption_loss(changed, ids, pad).item<double>(), caption_loss(logits, ids, pad).item<double>(), 1e-6);
}

TEST(CaptionLoss, TheTermIsRefusedOnAModelWithoutTheDecoder) {
  auto config = test::caption_model_config();
  config.head.type = "";
  auto model = build_model(config, TextVocab{kVocab, kVocab - 1});
  LossConfig loss;
  loss.terms = {{"clip", 1.0}, {"caption", 2.0}};
  EXPECT_EQ(test::error_message<ConfigError>([&] { check_loss_fits_model(loss, *model); }),
            "loss.terms.caption: this term trains the 'caption' head; set model.head.type: caption");
}

std::vector<torch::Tensor> gradients(MultimodalModelImpl& model) {
  std::vector<torch::Tensor> grads;
  for (auto& p : model.parameters()) {
    grads.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
    p.mutable_grad() = torch::Tensor();
  }
  return grads;
}

TEST(CaptionLoss, CachedMicroBatchesGiveTheWholeBatchsGradient) {
  auto model = test::caption_model(kVocab);
  model->train();
  torch::manual_seed(2);
  const auto images = torch::randn({4, 3, 16, 16});
  // Every caption is as long, so the mean of the micro-batches' means is the batch's mean.
  const auto tokens = torch::tensor(
      {{10, 1, 2, 11, 0, 0, 0, 0}, {10, 3, 4, 11, 0, 0, 0, 0}, {10, 5, 6, 11, 0, 0, 0, 0}, {10, 7, 8, 11, 0, 0, 0, 0}},
      torch::kLong);
  LossConfig loss;
  loss.terms = {{"clip", 1.0}, {"caption", 2.0}};
  forward_backward(*model, loss, images, tokens, "fp32");
  const auto whole = gradients(*model);
  accumulate_gradients(*model, loss, images, tokens, 2, "fp32");
  const auto accumulated = gradients(*model);
  for (size_t i = 0; i < whole.size(); ++i) {
    const double scale = std::max(1e-3, whole[i].abs().max().item<double>());
    EXPECT_LT((whole[i] - accumulated[i]).abs().max().item<double>() / scale, 1e-4) << "parameter " << i;
  }
}

TEST(CaptionLoss, UnderBf16AutocastTheLossIsTheFp32LossToBf16Precision) {
  auto model = test::caption_model(kVocab);
  model->train();
  torch::manual_seed(3);
  const auto images = torch::randn({4, 3, 16, 16});
  const auto tokens = torch::tensor(
      {{10, 1, 2, 11, 0, 0, 0, 0}, {10, 3, 4, 5, 6, 11, 0, 0}, {10, 5, 11, 0, 0, 0, 0, 0}, {10, 7, 8, 9, 11, 0, 0, 0}},
      torch::kLong);
  LossConfig loss;
  loss.terms = {{"caption", 1.0}};
  const double fp32 = forward_backward(*model, loss, images, tokens, "fp32").total.item<double>();
  gradients(*model);
  const auto bf16 = forward_backward(*model, loss, images, tokens, "bf16");
  EXPECT_NEAR(bf16.total.item<double>(), fp32, 0.02 * fp32);
  for (const auto& grad : gradients(*model)) EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
}

TEST(CaptionLoss, InputDropoutChangesTheTrainingLossButNotTheTargetsOrEvaluation) {
  auto model = test::caption_model(kVocab);
  torch::manual_seed(4);
  const auto images = torch::randn({4, 3, 16, 16});
  const auto tokens = torch::tensor(
      {{10, 1, 2, 3, 4, 11, 0, 0}, {10, 3, 4, 5, 6, 11, 0, 0}, {10, 5, 6, 7, 11, 0, 0, 0}, {10, 7, 8, 9, 1, 2, 11, 0}},
      torch::kLong);
  LossConfig loss;
  loss.terms = {{"caption", 1.0}};
  torch::NoGradGuard no_grad;
  const auto output = model->forward(images, tokens);
  const double plain = compute_loss(loss, output, *model).total.item<double>();
  loss.caption_input_dropout = 0.5;
  model->eval();  // evaluation reads the caption as it is
  EXPECT_DOUBLE_EQ(compute_loss(loss, output, *model).total.item<double>(), plain);
  model->train();
  EXPECT_GT(std::abs(compute_loss(loss, output, *model).total.item<double>() - plain), 1e-4);
}

}  // namespace
}  // namespace mmtrain
