// Numeric parity with open_clip 3.3 on its own outputs (reference data openclip_golden/, made by
// tests/reference/make_openclip_golden.py running open_clip in Python). Relative error =
// max|ours - ref| / max|ref|; tolerances from the issue: features 1e-5, logits 1e-4, loss 1e-5,
// gradients 1e-4.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "mmtrain/losses/clip_loss.h"
#include "mmtrain/models/open_clip.h"
#include "mmtrain/models/registry.h"
#include "support/reference_data.h"
#include "support/relative_error.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

using test::relative_error;

class OpenClipParity : public ::testing::Test {
 protected:
  void SetUp() override {
    MMTRAIN_REQUIRE_REFERENCE_DATA("openclip_golden/meta.json");
    golden_ = test::reference_data("openclip_golden");
    std::ifstream in(golden_ + "/meta.json");
    const auto meta = nlohmann::json::parse(in);
    config_path_ = dir_.write("open_clip_config.json", meta.at("open_clip_config").dump());
    reference_ = read_safetensors(golden_ + "/golden.safetensors");
  }

  MultimodalModel load(const std::string& weights_file) {
    const OpenClipConfig config = read_open_clip_config(config_path_);
    auto model = build_model(config.model, TextVocab{config.vocab_size, 49407});
    load_weights(*model, from_open_clip_state_dict(read_weight_file(golden_ + "/" + weights_file)), true,
                 weights_file);
    return model;
  }

  // Forward and backward on open_clip's preprocessed inputs; checks every output it recorded.
  void expect_parity(const std::string& weights_file) {
    auto model = load(weights_file);
    auto out = model->forward(reference_.at("in.images"), reference_.at("in.tokens"));
    auto params = model->named_parameters();
    auto image_features = torch::matmul(out.image.pooled, params["fusion.image_projection"]);
    auto text_features = torch::matmul(out.text.pooled, params["fusion.text_projection"]);
    EXPECT_LT(relative_error(image_features, reference_.at("out.image_features")), 1e-5);
    EXPECT_LT(relative_error(text_features, reference_.at("out.text_features")), 1e-5);
    EXPECT_LT(relative_error(out.image_embeds, reference_.at("out.image_features_norm")), 1e-5);
    EXPECT_LT(relative_error(out.text_embeds, reference_.at("out.text_features_norm")), 1e-5);

    auto logits = out.logit_scale * torch::matmul(out.image_embeds, out.text_embeds.t());
    EXPECT_LT(relative_error(logits, reference_.at("out.logits_per_image")), 1e-4);
    auto loss = clip_loss(logits, logits.t());
    EXPECT_LT(relative_error(loss.reshape({1}), reference_.at("out.loss")), 1e-5);

    loss.backward();
    int checked = 0;
    for (const auto& [key, reference_grad] : reference_) {
      if (key.rfind("grad.", 0) != 0) continue;
      const std::string name = from_open_clip_key(key.substr(5));
      ASSERT_NE(params.find(name), nullptr) << key;
      EXPECT_LT(relative_error(params[name].grad(), reference_grad), 1e-4) << key;
      ++checked;
    }
    EXPECT_EQ(checked, 8);
  }

  test::TempDir dir_;
  std::string golden_, config_path_;
  TensorMap reference_;
};

TEST_F(OpenClipParity, SafetensorsWeightsReproduceFeaturesLogitsLossAndGradients) {
  expect_parity("model.safetensors");
}

TEST_F(OpenClipParity, TorchSavedWeightsReproduceFeaturesLogitsLossAndGradients) {
  expect_parity("model.pt");
}

TEST_F(OpenClipParity, ExportUsesOpenClipsKeyNamesAndShapes) {
  auto model = load("model.safetensors");
  const auto exported = to_open_clip_state_dict(*model);
  const auto original = read_safetensors(golden_ + "/model.safetensors");
  ASSERT_EQ(exported.size(), original.size());
  for (const auto& [key, tensor] : original) {
    ASSERT_EQ(exported.count(key), 1u) << key;
    EXPECT_EQ(exported.at(key).sizes(), tensor.sizes()) << key;
    EXPECT_TRUE(torch::equal(exported.at(key), tensor)) << key;
  }
}

TEST_F(OpenClipParity, ExportThenImportReproducesTheFeatures) {
  auto model = load("model.safetensors");
  Config config;
  const OpenClipConfig source = read_open_clip_config(config_path_);
  config.model.embed_dim = source.model.embed_dim;
  config.model.vision = source.model.vision;
  config.model.text = source.model.text;
  config.tokenizer.type = "clip_bpe";
  const auto json_path = dir_.write("exported.json", open_clip_config_json(config, 49408));
  const auto weights_path = (dir_.path() / "exported.safetensors").string();
  write_safetensors(weights_path, to_open_clip_state_dict(*model));

  const OpenClipConfig reread = read_open_clip_config(json_path);
  auto imported = build_model(reread.model, TextVocab{reread.vocab_size, 49407});
  load_weights(*imported, from_open_clip_state_dict(read_weight_file(weights_path)), true, weights_path);
  torch::NoGradGuard no_grad;
  auto a = model->forward(reference_.at("in.images"), reference_.at("in.tokens"));
  auto b = imported->forward(reference_.at("in.images"), reference_.at("in.tokens"));
  EXPECT_TRUE(torch::equal(a.image_embeds, b.image_embeds));
  EXPECT_TRUE(torch::equal(a.text_embeds, b.text_embeds));
}

TEST_F(OpenClipParity, AnotherImageSizeInterpolatesThePositionalEmbedding) {
  const OpenClipConfig config = read_open_clip_config(config_path_);
  ModelConfig larger = config.model;
  larger.vision.image_size = 96;  // 4x4 patch grid -> 6x6
  auto model = build_model(larger, TextVocab{config.vocab_size, 49407});
  const auto weights = from_open_clip_state_dict(read_weight_file(golden_ + "/model.safetensors"));
  const auto report = load_weights(*model, weights, true, "model.safetensors");
  ASSERT_EQ(report.resized.size(), 1u);
  auto params = model->named_parameters();
  const auto& resized = params["vision.positional_embedding"];
  EXPECT_EQ(resized.sizes(), (std::vector<int64_t>{37, 64}));
  EXPECT_TRUE(torch::equal(resized[0], weights.at("vision.positional_embedding")[0]));  // class token kept
}

TEST_F(OpenClipParity, StrictLoadingListsMissingAndUnexpectedKeys) {
  const OpenClipConfig config = read_open_clip_config(config_path_);
  auto model = build_model(config.model, TextVocab{config.vocab_size, 49407});
  auto weights = from_open_clip_state_dict(read_weight_file(golden_ + "/model.safetensors"));
  weights.erase("fusion.logit_scale");
  weights.emplace("visual.attnpool.weight", torch::zeros({1}));
  try {
    load_weights(*model, weights, true, "w.safetensors");
    FAIL() << "expected strict loading to refuse";
  } catch (const std::exception& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("missing [fusion.logit_scale]"), std::string::npos) << message;
    EXPECT_NE(message.find("unexpected [visual.attnpool.weight]"), std::string::npos) << message;
  }
  const auto report = load_weights(*model, weights, false, "w.safetensors");
  EXPECT_EQ(report.missing, std::vector<std::string>{"fusion.logit_scale"});
}

}  // namespace
}  // namespace mmtrain
