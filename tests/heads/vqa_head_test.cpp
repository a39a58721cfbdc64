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

// The classifier's layers by hand from its own weights: x [B,In] -> logits [B,A].
torch::Tensor classifier_by_hand(torch::OrderedDict<std::string, torch::Tensor>& params, const torch::Tensor& x) {
  auto h = torch::matmul(x, params["fc1.weight"].t()) + params["fc1.bias"];
  h = torch::layer_norm(h, {h.size(1)}, params["norm.weight"], params["norm.bias"]);
  return torch::matmul(torch::gelu(h), params["fc2.weight"].t()) + params["fc2.bias"];
}

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
  const auto expected = classifier_by_hand(params, x);
  EXPECT_TRUE(torch::allclose(logits, expected, 1e-4, 1e-5)) << logits << expected;
  // The words' queries train through the answer.
  logits.sum().backward();
  EXPECT_TRUE(params["word_query.weight"].grad().defined());
  EXPECT_GT(params["word_query.weight"].grad().abs().sum().item<double>(), 0.0);
}

TEST(VqaHead, AnswerTypesMixEachTypesSoftmaxByTheTypeTheQuestionsWordsGive) {
  register_builtins();
  ModelConfig config = small_config("cross_attention");
  config.head.answer_types = 3;
  torch::manual_seed(7);
  auto model = build_model(config, TextVocab{20, 3, 0});
  auto& head = vqa_head_of(*model, "test");
  // Type 0 answers 0 and 1, type 1 answers 2 to 4, type 2 none; answers 5 and 6 belong to no type.
  head.set_answer_types({{0, 1}, {2, 3, 4}});
  auto params = head.named_parameters();
  {
    // Token 5 (only in the first question) says type 1.
    torch::NoGradGuard no_grad;
    params["type_words.weight"][5][1] = 20.0f;
  }
  const auto output = model->forward(torch::randn({2, 3, 16, 16}), kTokens);
  const auto log_p = head.forward(output);
  ASSERT_EQ(log_p.sizes(), (std::vector<int64_t>{2, 7}));
  const auto p = log_p.exp();
  EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({2}), 1e-5, 1e-6)) << p;
  EXPECT_LT(p.narrow(1, 5, 2).max().item<double>(), 1e-12) << p;
  // By hand from the plain logits: row 0 is type 1's softmax (the other type has e^-20 of it); row
  // 1's words score no type, so each type with answers has half, spread by its own softmax.
  const auto logits = classifier_by_hand(params, output.fused.to(torch::kFloat));
  const auto first = logits.narrow(1, 0, 2).softmax(1), second = logits.narrow(1, 2, 3).softmax(1);
  const double other = std::exp(-20.0) / (1.0 + std::exp(-20.0));
  const auto expected = torch::stack(
      {torch::cat({first[0] * other, second[0] * (1.0 - other), torch::zeros({2})}),
       torch::cat({first[1] * 0.5, second[1] * 0.5, torch::zeros({2})})});
  EXPECT_TRUE(torch::allclose(p, expected, 1e-5, 1e-7)) << p << expected;
  // The words' type scores train through the answer; padding reads nothing.
  log_p.select(1, 0).sum().backward();
  const auto grad = params["type_words.weight"].grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(grad[7].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(grad[0].abs().sum().item<double>(), 0.0);
  // Grouping is kept with the weights, and more types than configured are refused.
  EXPECT_EQ(head.named_buffers()["type_answers"].sum().item<double>(), 5.0);
  EXPECT_THROW(head.set_answer_types({{0}, {1}, {2}, {3}}), c10::Error);
}

TEST(VqaHead, LateFusionIsRefusedNamingTheFusedTypes) {
  register_builtins();
  const std::string message = test::error_message<ConfigError>([] { build_model(small_config("late"), TextVocab{20, 3}); });
  EXPECT_NE(message.find("model.head.type"), std::string::npos) << message;
  EXPECT_NE(message.find("cross_attention"), std::string::npos) << message;
}

}  // namespace
}  // namespace mmtrain
