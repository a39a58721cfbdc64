// The VQA classifier head on the fused types' joint representation.
#include "mmtrain/heads/vqa_head.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/errors.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/registered_names.h"
#include "support/error_message.h"

namespace mmtrain {
namespace {

ModelConfig small_config(const std::string& fusion) {
  ModelConfig config;
  config.embed_dim = 8;
  config.vision = VisionConfig{"vit", 16, 8, 16, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 6, 24, 1, 2, 4.0, "gelu"};
  config.fusion = FusionConfig{fusion, 16, 1, 2};
  config.head.type = "vqa";
  config.head.answers = 7;
  return config;
}

const torch::Tensor kTokens = torch::tensor({{2, 5, 6, 3, 0, 0}, {2, 7, 3, 0, 0, 0}}, torch::kLong);

TEST(VqaHead, ScoresEveryAnswerFromTheJointRepresentationOfEachFusedType) {
  register_builtins();
  for (const std::string fusion : {"early", "cross_attention"}) {
    torch::manual_seed(3);
    auto model = build_model(small_config(fusion), TextVocab{20, 3});
    const auto images = torch::randn({2, 3, 16, 16});
    const auto output = model->forward(images, kTokens);
    ASSERT_TRUE(output.fused.defined()) << fusion;
    EXPECT_EQ(output.fused.sizes(), (std::vector<int64_t>{2, 16})) << fusion;
    // After the fusion's final norm (weight 1, bias 0 at start): each row has mean 0 and variance 1.
    EXPECT_LT(output.fused.mean(1).abs().max().item<double>(), 1e-4) << fusion;
    const auto logits = vqa_head_of(*model, "test").forward(output);
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7})) << fusion;
    EXPECT_EQ(logits.scalar_type(), torch::kFloat);
    // The answer depends on the question: another question about the same image scores otherwise.
    const auto swapped = vqa_head_of(*model, "test").forward(model->forward(images, kTokens.flip(0)));
    EXPECT_FALSE(torch::allclose(logits, swapped)) << fusion;
    // Gradients reach both towers through the fusion.
    logits.sum().backward();
    EXPECT_TRUE(model->vision().parameters().front().grad().defined()) << fusion;
    EXPECT_TRUE(model->text().parameters().front().grad().defined()) << fusion;
  }
}

TEST(VqaHead, PointingWordsAddTheAttendedPositionAndPatchFeaturesToTheJointRepresentation) {
  register_builtins();
  ModelConfig config = small_config("cross_attention");
  config.head.point = "words";
  torch::manual_seed(5);
  auto model = build_model(config, TextVocab{20, 3});
  const auto output = model->forward(torch::randn({2, 3, 16, 16}), kTokens);
  auto& head = vqa_head_of(*model, "test");
  const auto logits = head.forward(output);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7}));
  // The ViT's 16 px image in 8 px patches: 4 cells, its class token left out.
  const auto scores = head.pointing_logits(output);
  ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{2, 4}));
  // By hand: the softmax over the cells, the expected cell centre and the attended patch features
  // beside the joint representation, then the classifier's layers from its own weights.
  auto params = head.named_parameters();
  const auto weights = torch::softmax(scores, 1);                                               // [2,4]
  const auto centres = torch::tensor({0.25f, 0.25f, 0.75f, 0.25f, 0.25f, 0.75f, 0.75f, 0.75f}).view({4, 2});
  const auto patches = output.image.tokens.narrow(1, 1, 4).to(torch::kFloat);                   // [2,4,D]
  const auto features = (weights.unsqueeze(2) * patches).sum(1);                                 // [2,D]
  const auto x = torch::cat({output.fused.to(torch::kFloat), torch::matmul(weights, centres), features}, 1);
  auto h = torch::matmul(x, params["fc1.weight"].t()) + params["fc1.bias"];
  h = torch::layer_norm(h, {h.size(1)}, params["norm.weight"], params["norm.bias"]);
  const auto expected = torch::matmul(torch::gelu(h), params["fc2.weight"].t()) + params["fc2.bias"];
  EXPECT_TRUE(torch::allclose(logits, expected, 1e-4, 1e-5)) << logits << expected;
  // The words' queries train through the answer.
  logits.sum().backward();
  EXPECT_TRUE(params["word_query.weight"].grad().defined());
  EXPECT_GT(params["word_query.weight"].grad().abs().sum().item<double>(), 0.0);
}

TEST(VqaHead, LateFusionIsRefusedNamingTheFusedTypes) {
  register_builtins();
  const std::string message = test::error_message<ConfigError>([] { build_model(small_config("late"), TextVocab{20, 3}); });
  EXPECT_NE(message.find("model.head.type"), std::string::npos) << message;
  EXPECT_NE(message.find("cross_attention"), std::string::npos) << message;
}

}  // namespace
}  // namespace mmtrain
