// SigLIP, ITM and uncertainty weighting against PyTorch: tests/fixtures/loss_references.json holds
// fixed inputs with the values and autograd gradients that python3-torch computed from the papers'
// formulas (tests/fixtures/make_loss_references.py regenerates it). Both sides run in float64, so
// the tolerances (values: relative 1e-6, gradients: absolute 1e-6) leave room only for the order
// of floating-point operations, not for a wrong formula or a missing normalisation gradient.
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "mmtrain/losses/itm_loss.h"
#include "mmtrain/losses/siglip_loss.h"
#include "mmtrain/losses/uncertainty_weighting.h"
#include "test_paths.h"

namespace mmtrain {
namespace {

constexpr double kValueRelativeTolerance = 1e-6;
constexpr double kGradientAbsoluteTolerance = 1e-6;

const nlohmann::json& references() {
  static const nlohmann::json loaded = [] {
    const std::string path = MMTRAIN_SOURCE_DIR "/tests/fixtures/loss_references.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read (run tests/fixtures/make_loss_references.py)");
    return nlohmann::json::parse(in);
  }();
  return loaded;
}

torch::Tensor leaf(torch::Tensor values) { return values.to(torch::kDouble).requires_grad_(true); }

torch::Tensor scalar(const nlohmann::json& value) { return torch::tensor(value.get<double>(), torch::kDouble); }

torch::Tensor vector(const nlohmann::json& values) {
  return torch::tensor(values.get<std::vector<double>>(), torch::kDouble);
}

// [rows][cols] -> [rows,cols]
torch::Tensor matrix(const nlohmann::json& rows) {
  std::vector<torch::Tensor> stacked;
  for (const auto& row : rows) stacked.push_back(vector(row));
  return torch::stack(stacked);
}

void expect_value(const torch::Tensor& actual, const nlohmann::json& expected) {
  const double want = expected.get<double>();
  EXPECT_NEAR(actual.item<double>(), want, kValueRelativeTolerance * std::abs(want));
}

void expect_gradient(const torch::Tensor& actual, const torch::Tensor& expected, const char* what) {
  ASSERT_TRUE(actual.defined()) << what << ": no gradient";
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  EXPECT_LE((actual - expected).abs().max().item<double>(), kGradientAbsoluteTolerance)
      << what << "\nactual:\n" << actual << "\nexpected:\n" << expected;
}

TEST(LossReferences, SiglipValuesAndGradientsMatchPyTorch) {
  ASSERT_FALSE(references().at("siglip").empty());
  for (const auto& ref : references().at("siglip")) {
    SCOPED_TRACE(ref.at("name").get<std::string>());
    auto image = leaf(matrix(ref.at("image_embeds")));  // [4,3]
    auto text = leaf(matrix(ref.at("text_embeds")));    // [4,3]
    auto log_scale = leaf(scalar(ref.at("log_scale")));
    auto bias = leaf(scalar(ref.at("bias")));
    auto loss = siglip_loss(image, text, log_scale, bias);
    loss.backward();
    expect_value(loss, ref.at("loss"));
    expect_gradient(image.grad(), matrix(ref.at("grad_image_embeds")), "d/d image_embeds");
    expect_gradient(text.grad(), matrix(ref.at("grad_text_embeds")), "d/d text_embeds");
    expect_gradient(log_scale.grad(), scalar(ref.at("grad_log_scale")), "d/d log_scale");
    expect_gradient(bias.grad(), scalar(ref.at("grad_bias")), "d/d bias");
  }
}

// Training runs in float32; 1e-5 relative is a few float32 ulps over a 16-term sum.
TEST(LossReferences, SiglipInFloat32StaysCloseToTheFloat64Reference) {
  const auto& ref = references().at("siglip").at(0);
  auto loss = siglip_loss(matrix(ref.at("image_embeds")).to(torch::kFloat),
                          matrix(ref.at("text_embeds")).to(torch::kFloat),
                          scalar(ref.at("log_scale")).to(torch::kFloat), scalar(ref.at("bias")).to(torch::kFloat));
  EXPECT_EQ(loss.scalar_type(), torch::kFloat);
  const double want = ref.at("loss").get<double>();
  EXPECT_NEAR(loss.item<double>(), want, 1e-5 * std::abs(want));
}

TEST(LossReferences, ItmValueAndGradientsMatchPyTorch) {
  ASSERT_FALSE(references().at("itm").empty());
  for (const auto& ref : references().at("itm")) {
    SCOPED_TRACE(ref.at("name").get<std::string>());
    auto positive = leaf(vector(ref.at("positive_logits")));  // [B]
    auto negative = leaf(vector(ref.at("negative_logits")));  // [2B]
    auto loss = itm_loss(positive, negative);
    loss.backward();
    expect_value(loss, ref.at("loss"));
    expect_gradient(positive.grad(), vector(ref.at("grad_positive_logits")), "d/d positive_logits");
    expect_gradient(negative.grad(), vector(ref.at("grad_negative_logits")), "d/d negative_logits");
  }
}

TEST(LossReferences, UncertaintyWeightedSumValueAndGradientsMatchPyTorch) {
  ASSERT_FALSE(references().at("uncertainty").empty());
  for (const auto& ref : references().at("uncertainty")) {
    SCOPED_TRACE(ref.at("name").get<std::string>());
    auto loss_values = vector(ref.at("losses"));  // [K]
    std::vector<torch::Tensor> losses;
    for (int64_t k = 0; k < loss_values.size(0); ++k) losses.push_back(leaf(loss_values[k].clone()));
    auto log_vars = leaf(vector(ref.at("log_vars")));  // [K]
    auto total = uncertainty_weighted_sum(losses, log_vars);
    total.backward();
    expect_value(total, ref.at("total"));
    expect_gradient(log_vars.grad(), vector(ref.at("grad_log_vars")), "d/d log_vars");
    std::vector<torch::Tensor> loss_grads;
    for (const auto& loss : losses) loss_grads.push_back(loss.grad().reshape({}));
    expect_gradient(torch::stack(loss_grads), vector(ref.at("grad_losses")), "d/d losses");
  }
}

}  // namespace
}  // namespace mmtrain
