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

TEST(VqaHead, LateFusionIsRefusedNamingTheFusedTypes) {
  register_builtins();
  const std::string message = test::error_message<ConfigError>([] { build_model(small_config("late"), TextVocab{20, 3}); });
  EXPECT_NE(message.find("model.head.type"), std::string::npos) << message;
  EXPECT_NE(message.find("cross_attention"), std::string::npos) << message;
}

}  // namespace
}  // namespace mmtrain
