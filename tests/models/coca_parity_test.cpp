// Numeric parity with open_clip 3.3's CoCa on its own outputs (reference data coca_golden/, made by
// tests/reference/make_coca_golden.py running open_clip and transformers in Python): the config
// and weights read as open_clip writes them, the towers' features and tokens, the decoder's logits
// and caption loss, and generate()'s token ids, greedy and beam search, with the same settings
// (GenerationConfig::open_clip). Relative error = max|ours - ref| / max|ref|.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "mmtrain/heads/caption_decoder.h"
#include "mmtrain/heads/caption_generation.h"
#include "mmtrain/losses/caption_loss.h"
#include "mmtrain/models/open_clip.h"
#include "mmtrain/models/registry.h"
#include "support/reference_data.h"
#include "support/relative_error.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

using test::relative_error;

class CocaParity : public ::testing::Test {
 protected:
  void SetUp() override {
    MMTRAIN_REQUIRE_REFERENCE_DATA("coca_golden/meta.json");
    golden_ = test::reference_data("coca_golden");
    std::ifstream in(golden_ + "/meta.json");
    meta_ = nlohmann::json::parse(in);
    reference_ = read_safetensors(golden_ + "/golden.safetensors");
    const OpenClipConfig config = read_open_clip_config(golden_ + "/open_clip_config.json");
    tokens_ = CaptionTokens{meta_.at("sot_token_id"), meta_.at("eos_token_id"), config.model.text.context_length,
                            meta_.at("pad_id")};
    model_ = build_model(config.model, TextVocab{config.vocab_size, tokens_.eos, tokens_.pad});
    const std::string weights = golden_ + "/model.safetensors";
    load_weights(*model_, from_open_clip_state_dict(read_weight_file(weights)), /*strict=*/true, weights);
    model_->eval();
  }

  std::string golden_;
  nlohmann::json meta_;
  TensorMap reference_;
  CaptionTokens tokens_;
  MultimodalModel model_{nullptr};
};

TEST_F(CocaParity, TheConfigReadsAsACaptionDecoderOverAnAttentionalPoolerAndAClassTokenTextTower) {
  const OpenClipConfig config = read_open_clip_config(golden_ + "/open_clip_config.json");
  EXPECT_EQ(config.model.head.type, "caption");
  EXPECT_EQ(config.model.head.layers, 2);
  EXPECT_EQ(config.model.vision.attn_pool_queries, 8);
  EXPECT_EQ(config.model.vision.attn_pool_width, 64);
  EXPECT_TRUE(config.model.text.embed_cls);
}

TEST_F(CocaParity, FeaturesTokensLogitsAndCaptionLossMatchOpenClip) {
  torch::NoGradGuard no_grad;
  const auto text = reference_.at("in.text");
  const auto out = model_->forward(reference_.at("in.images"), text);
  EXPECT_LT(relative_error(out.image_embeds, reference_.at("out.image_features")), 1e-5);
  EXPECT_LT(relative_error(out.text_embeds, reference_.at("out.text_features")), 1e-5);
  EXPECT_LT(relative_error(out.image.tokens, reference_.at("out.image_embs")), 1e-5);
  EXPECT_LT(relative_error(out.text.tokens, reference_.at("out.text_token_embs")), 1e-5);
  EXPECT_LT(relative_error(out.logit_scale.reshape({1}), reference_.at("out.logit_scale")), 1e-6);

  const auto logits = model_->head()->forward(out);  // [B,L,V]; open_clip's stops a token short
  EXPECT_LT(relative_error(logits.slice(1, 0, text.size(1) - 1), reference_.at("out.logits")), 1e-4);
  // open_clip ignores every label equal to the padding id, "!" inside a caption included; given
  // the same ignored positions the loss is the same.
  const auto ignored = text.eq(tokens_.pad);
  EXPECT_LT(relative_error(caption_loss(logits, text, ignored).reshape({1}), reference_.at("out.caption_loss")), 1e-5);
}

// open_clip's output row without start-of-text, up to end-of-text (and, for greedy and sampling,
// the padding id that ended it).
std::vector<int64_t> caption_ids(const torch::Tensor& row, const CaptionTokens& tokens, bool greedy) {
  std::vector<int64_t> ids;
  for (int64_t t = 1; t < row.size(0); ++t) {
    const int64_t id = row[t].item<int64_t>();
    if (id == tokens.eos || (greedy && id == tokens.pad)) break;
    ids.push_back(id);
  }
  return ids;
}

// generate()'s arguments in mmtrain's terms: seq_len counts start-of-text, min_seq_len too.
GenerationConfig generation_of(const nlohmann::json& kwargs) {
  GenerationConfig config;
  config.open_clip = true;
  config.max_len = kwargs.at("seq_len").get<int>() - 1;
  config.min_len = kwargs.at("min_seq_len").get<int>() - 1;
  config.repetition_penalty = kwargs.at("repetition_penalty");
  if (kwargs.at("generation_type") == "beam_search") {
    // Groups without a diversity penalty evolve alike: width num_beams / num_beam_groups.
    config.beam = kwargs.at("num_beams").get<int>() / kwargs.at("num_beam_groups").get<int>();
  } else {
    EXPECT_EQ(kwargs.at("top_k"), 1) << "only greedy (top_k 1) is deterministic";
  }
  return config;
}

TEST_F(CocaParity, GreedyAndBeamSearchGiveOpenClipsTokenIds) {
  int calls = 0;
  for (const auto& call : meta_.at("generate_calls")) {
    const GenerationConfig config = generation_of(call.at("kwargs"));
    const auto rows = torch::tensor(call.at("images").get<std::vector<int64_t>>(), torch::kLong);
    const auto captions = generate_captions(*model_, reference_.at("in.images").index_select(0, rows), tokens_, config);
    const auto expected = reference_.at(call.at("key").get<std::string>());
    for (size_t i = 0; i < captions.size(); ++i) {
      EXPECT_EQ(captions[i].ids, caption_ids(expected[static_cast<int64_t>(i)], tokens_, config.beam == 1))
          << call.at("name").get<std::string>() << ", image " << i;
    }
    ++calls;
  }
  EXPECT_GE(calls, 4);
}

}  // namespace
}  // namespace mmtrain
