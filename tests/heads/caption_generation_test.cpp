// Caption generation: beam search as wide as every candidate finds the best caption an exhaustive
// search finds; greedy is beam width 1 and top-k 1; sampling follows its seed; the minimum length
// and the n-gram block hold.
#include "mmtrain/heads/caption_generation.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>

#include "mmtrain/heads/caption_decoder.h"
#include "support/caption_model.h"

namespace mmtrain {
namespace {

constexpr int64_t kVocab = 5;  // ids 0..2 words, 3 start-of-text, 4 end-of-text

TEST(RepeatedNgram, BansTheTokensThatWouldCompleteAnEarlierNgram) {
  EXPECT_EQ(repeated_ngram_tokens({3, 1, 2, 1}, 2), (std::vector<int64_t>{2}));
  EXPECT_EQ(repeated_ngram_tokens({3, 1, 2, 1, 2}, 3), (std::vector<int64_t>{1}));
  EXPECT_EQ(repeated_ngram_tokens({3, 1, 2}, 1), (std::vector<int64_t>{3, 1, 2}));
  EXPECT_TRUE(repeated_ngram_tokens({3, 1, 2}, 0).empty());
  EXPECT_TRUE(repeated_ngram_tokens({3}, 3).empty());
}

// Sum of log p of `ids` then end-of-text (when `ended`), from one forward pass over the whole
// sequence: independent of generation's step-by-step decoding.
double sequence_log_prob(MultimodalModelImpl& model, const torch::Tensor& image, const std::vector<int64_t>& ids,
                         bool ended, const CaptionTokens& tokens) {
  std::vector<int64_t> sequence{tokens.bos};
  sequence.insert(sequence.end(), ids.begin(), ids.end());
  if (ended) sequence.push_back(tokens.eos);
  torch::NoGradGuard no_grad;
  auto text = model.text().forward(torch::tensor(sequence, torch::kLong).unsqueeze(0)).tokens;
  auto& decoder = caption_decoder_of(model, "test");
  auto log_p = torch::log_softmax(decoder.logits(model.encode_vision(image, true).tokens, text), -1)[0];
  double sum = 0;
  for (size_t t = 0; t + 1 < sequence.size(); ++t) sum += log_p[static_cast<int64_t>(t)][sequence[t + 1]].item<double>();
  return sum;
}

struct Scored {
  std::vector<int64_t> ids;
  double score = -INFINITY;
};

// Every caption of up to max_len tokens: ended by end-of-text, or cut at max_len.
Scored exhaustive_best(MultimodalModelImpl& model, const torch::Tensor& image, const CaptionTokens& tokens,
                       int max_len, double length_penalty) {
  Scored best;
  std::function<void(std::vector<int64_t>&)> visit = [&](std::vector<int64_t>& ids) {
    const int length = static_cast<int>(ids.size());
    if (length == max_len) {
      const double score = sequence_log_prob(model, image, ids, false, tokens) / std::pow(length, length_penalty);
      if (score > best.score) best = {ids, score};
      return;
    }
    const double ended = sequence_log_prob(model, image, ids, true, tokens) / std::pow(length + 1, length_penalty);
    if (ended > best.score) best = {ids, ended};
    for (int64_t token = 0; token < kVocab; ++token) {
      if (token == tokens.eos) continue;
      ids.push_back(token);
      visit(ids);
      ids.pop_back();
    }
  };
  std::vector<int64_t> empty;
  visit(empty);
  return best;
}

TEST(CaptionGeneration, ABeamAsWideAsEveryCandidateFindsTheExhaustiveBest) {
  const auto tokens = test::caption_tokens(kVocab);
  for (uint64_t seed : {1, 2, 3}) {
    auto model = test::caption_model(kVocab, seed);
    const auto image = torch::randn({1, 3, 16, 16});
    GenerationConfig config;
    config.max_len = 3;
    config.min_len = 0;
    config.beam = 64;
    config.length_penalty = 0.7;
    const auto beam = generate_captions(*model, image, tokens, config).front();
    const Scored best = exhaustive_best(*model, image, tokens, 3, 0.7);
    EXPECT_EQ(beam.ids, best.ids) << "seed " << seed;
    EXPECT_NEAR(beam.score, best.score, 1e-5) << "seed " << seed;
  }
}

TEST(CaptionGeneration, GreedyIsBeamWidthOneAndTopKOne) {
  auto model = test::caption_model(kVocab);
  const auto tokens = test::caption_tokens(kVocab);
  const auto images = torch::randn({3, 3, 16, 16});
  GenerationConfig greedy;
  greedy.max_len = 6;
  GenerationConfig sample_top1 = greedy;
  sample_top1.top_k = 1;
  const auto a = generate_captions(*model, images, tokens, greedy);
  const auto b = generate_captions(*model, images, tokens, sample_top1, 99);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].ids, b[i].ids) << "image " << i;
    // Batched generation gives each image the caption it gets alone.
    const auto alone = generate_captions(*model, images.slice(0, i, i + 1), tokens, greedy).front();
    EXPECT_EQ(a[i].ids, alone.ids) << "image " << i;
  }
}

TEST(CaptionGeneration, SamplingFollowsItsSeed) {
  auto model = test::caption_model(kVocab);
  const auto tokens = test::caption_tokens(kVocab);
  const auto images = torch::randn({8, 3, 16, 16});
  GenerationConfig config;
  config.max_len = 7;
  config.top_p = 0.95;
  config.temperature = 2.0;  // flat enough that two seeds differ somewhere in 8 captions
  auto ids_of = [&](uint64_t seed) {
    std::vector<std::vector<int64_t>> ids;
    for (const auto& caption : generate_captions(*model, images, tokens, config, seed)) ids.push_back(caption.ids);
    return ids;
  };
  EXPECT_EQ(ids_of(4), ids_of(4));
  EXPECT_NE(ids_of(4), ids_of(5));
}

TEST(CaptionGeneration, NoEndOfTextBeforeTheMinimumLength) {
  auto model = test::caption_model(kVocab);
  const auto tokens = test::caption_tokens(kVocab);
  {
    // End-of-text made by far the most likely token everywhere: the final norm gives all ones,
    // and only end-of-text's column of the projection is non-zero.
    torch::NoGradGuard no_grad;
    auto parameters = model->named_parameters();
    parameters["head.ln_final.weight"].zero_();
    parameters["head.ln_final.bias"].fill_(1.0);
    parameters["head.text_projection"].zero_().select(1, tokens.eos).fill_(1.0);
  }
  const auto images = torch::randn({2, 3, 16, 16});
  GenerationConfig config;
  config.max_len = 6;
  config.min_len = 0;
  EXPECT_TRUE(generate_captions(*model, images, tokens, config).front().ids.empty());
  config.min_len = 3;
  for (int beam : {1, 3}) {
    config.beam = beam;
    for (const auto& caption : generate_captions(*model, images, tokens, config)) {
      EXPECT_EQ(caption.ids.size(), 3u) << "beam " << beam;
    }
  }
}

TEST(CaptionGeneration, TheNgramBlockKeepsEveryTokenOnceWithN1) {
  auto model = test::caption_model(kVocab);
  const auto tokens = test::caption_tokens(kVocab);
  GenerationConfig config;
  config.max_len = 7;
  // Start-of-text is in the prefix, so three word ids remain; end-of-text is held back until they
  // are used, and then it is the only token left.
  config.min_len = 3;
  config.no_repeat_ngram = 1;
  for (int beam : {1, 2}) {
    config.beam = beam;
    const auto caption = generate_captions(*model, torch::randn({1, 3, 16, 16}), tokens, config).front();
    EXPECT_EQ(caption.ids.size(), 3u) << "beam " << beam;
    std::vector<int64_t> seen{tokens.bos};
    for (int64_t id : caption.ids) {
      EXPECT_EQ(std::count(seen.begin(), seen.end(), id), 0) << "beam " << beam;
      seen.push_back(id);
    }
  }
}

// The first token of a contrastive greedy caption, worked out from two forward passes: the image's
// log-probabilities minus the blank image's, among tokens at least `plausibility` times as likely as
// the image's best.
int64_t first_contrastive_token(MultimodalModelImpl& model, const torch::Tensor& image, const CaptionTokens& tokens,
                                double contrast, double plausibility) {
  torch::NoGradGuard no_grad;
  auto& decoder = caption_decoder_of(model, "test");
  const auto start = torch::full({1, 1}, tokens.bos, torch::kLong);
  auto text = model.text().forward(start).tokens;
  auto log_p = [&](const torch::Tensor& pixels) {
    return torch::log_softmax(decoder.logits(model.encode_vision(pixels, true).tokens, text)[0][0], -1);
  };
  const auto with_image = log_p(image), blank = log_p(torch::zeros_like(image));
  int64_t best = -1;
  double best_score = -INFINITY;
  for (int64_t token = 0; token < kVocab; ++token) {
    if (token == tokens.eos) continue;  // min_len 1
    if (with_image[token].item<double>() < with_image.max().item<double>() + std::log(plausibility)) continue;
    const double score = with_image[token].item<double>() - contrast * blank[token].item<double>();
    if (score > best_score) best = token, best_score = score;
  }
  return best;
}

TEST(CaptionGeneration, ContrastiveDecodingRanksTokensByTheImageOverTheBlankImage) {
  const auto tokens = test::caption_tokens(kVocab);
  int differs = 0;
  for (uint64_t seed : {1, 2, 3, 4, 5, 6}) {
    auto model = test::caption_model(kVocab, seed);
    const auto image = torch::randn({1, 3, 16, 16});
    GenerationConfig config;
    config.max_len = 1;
    config.contrast = 1.5;
    config.plausibility = 0.2;
    const auto caption = generate_captions(*model, image, tokens, config).front();
    ASSERT_EQ(caption.ids.size(), 1u);
    EXPECT_EQ(caption.ids[0], first_contrastive_token(*model, image, tokens, 1.5, 0.2)) << "seed " << seed;
    config.contrast = 0.0;
    differs += generate_captions(*model, image, tokens, config).front().ids != caption.ids ? 1 : 0;
  }
  EXPECT_GT(differs, 0) << "contrast never changed a choice: the test would not see it ignored";
}

}  // namespace
}  // namespace mmtrain
