// Task heads built by name: a tiny answer head registered by the test beside the built-in ones.
#include "mmtrain/heads/task_head.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/registered_names.h"
#include "support/error_message.h"
#include "support/scoped_registration.h"

namespace mmtrain {
namespace {

constexpr int kAnswers = 5;
constexpr int kEmbedDim = 8;

// A VQA-style answer classifier on the pooled image and caption: small, but a real head.
class AnswerHeadImpl : public TaskHeadImpl {
 public:
  explicit AnswerHeadImpl(const HeadDims& dims)
      : classifier_(register_module("classifier",
                                    torch::nn::Linear(dims.image_width + dims.text_width, kAnswers))) {}
  torch::Tensor forward(const ModelOutput& output) override {
    return classifier_(torch::cat({output.image.pooled, output.text.pooled}, 1));  // [B,kAnswers]
  }
  bool reads_tokens() const override { return false; }

 private:
  torch::nn::Linear classifier_;
};

HeadEntry answer_head(const ModelNeeds& needs = {}) {
  return HeadEntry{HeadDescriptor{needs},
                   [](const HeadConfig&, const HeadDims& dims) { return std::make_shared<AnswerHeadImpl>(dims); }};
}

MultimodalModel small_model(const std::string& fusion) {
  torch::manual_seed(7);
  ModelConfig config;
  config.embed_dim = kEmbedDim;
  config.vision = VisionConfig{"vit", 16, 8, 16, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 6, 24, 1, 2, 4.0, "gelu"};
  config.fusion = FusionConfig{fusion, 16, 1, 2};
  return build_model(config, TextVocab{20, 3});
}

HeadConfig head_of(const std::string& type) {
  HeadConfig config;
  config.type = type;
  return config;
}

TEST(TaskHead, ATestRegisteredHeadIsBuiltByNameForTheModelsWidths) {
  register_builtins();
  test::ScopedRegistration head(head_registry(), "answer", answer_head());
  auto model = small_model("late");
  auto built = build_head(head_of("answer"), *model, kEmbedDim, TextVocab{20, 3});
  const auto tokens = torch::tensor({{2, 5, 6, 3, 0, 0}, {2, 7, 3, 0, 0, 0}, {2, 8, 3, 0, 0, 0}}, torch::kLong);
  const auto logits = built->forward(model->forward(torch::randn({3, 3, 16, 16}), tokens));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, kAnswers}));
  EXPECT_EQ(head_types(), (std::vector<std::string>{"caption", "vqa", "action", "answer"}));
}

TEST(TaskHead, AHeadNeedingTheMatchHeadIsRefusedOnLateFusionAndBuiltOnAFusedOne) {
  ModelNeeds needs;
  needs.match_head = true;
  test::ScopedRegistration head(head_registry(), "fused_answer", answer_head(needs));
  auto late = small_model("late");
  const std::string message = test::error_message<ConfigError>(
      [&] { build_head(head_of("fused_answer"), *late, kEmbedDim, TextVocab{20, 3}); });
  EXPECT_EQ(message,
            "model.head.type: head 'fused_answer': this fusion has no match head "
            "(use model.fusion.type early or cross_attention)");
  auto fused = small_model("early");
  EXPECT_NE(build_head(head_of("fused_answer"), *fused, kEmbedDim, TextVocab{20, 3}), nullptr);
}

TEST(TaskHead, AnUnknownHeadTypeListsTheRegisteredOnes) {
  test::ScopedRegistration head(head_registry(), "answer", answer_head());
  auto model = small_model("late");
  const std::string message = test::error_message<ConfigError>(
      [&] { build_head(head_of("speech"), *model, kEmbedDim, TextVocab{20, 3}); });
  EXPECT_EQ(message, "model.head.type: unknown head 'speech' (valid: caption, vqa, action, answer)");
}

TEST(TaskHead, AModelWithAHeadGivesTokensToItEvenUnderLateFusion) {
  ModelConfig config;
  config.embed_dim = kEmbedDim;
  config.vision = VisionConfig{"vit", 16, 8, 16, 1, 2, 4.0, "gelu", "cls"};
  config.text = TextConfig{"transformer", 6, 24, 1, 2, 4.0, "gelu"};
  config.head = head_of("caption");
  auto model = build_model(config, TextVocab{20, 3});
  ASSERT_NE(model->head(), nullptr);
  const auto tokens = torch::tensor({{2, 5, 6, 3, 0, 0}}, torch::kLong);
  const auto output = model->forward(torch::randn({1, 3, 16, 16}), tokens);
  EXPECT_EQ(output.image.tokens.sizes(), (std::vector<int64_t>{1, 5, 16}));
  EXPECT_EQ(output.text.tokens.sizes(), (std::vector<int64_t>{1, 6, 24}));
  EXPECT_EQ(model->head()->forward(output).sizes(), (std::vector<int64_t>{1, 6, 20}));
}

}  // namespace
}  // namespace mmtrain
