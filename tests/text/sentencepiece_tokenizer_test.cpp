#include "mmtrain/text/sentencepiece_tokenizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mmtrain {
namespace {

constexpr int kVocabSize = 100;
constexpr uint64_t kSeed = 1234;

std::vector<std::string> make_captions() {
  const std::vector<std::string> sizes = {"small", "large", "tiny", "huge"};
  const std::vector<std::string> colors = {"red", "green", "blue", "yellow", "purple", "orange"};
  const std::vector<std::string> shapes = {"circle", "square", "triangle", "star", "hexagon"};
  const std::vector<std::string> places = {"left", "right", "top", "bottom", "center"};
  std::vector<std::string> captions;
  for (size_t i = 0; i < 200; ++i) {
    const std::string& size = sizes[i % sizes.size()];
    const std::string& color = colors[(i / 2) % colors.size()];
    const std::string& other_color = colors[(i / 3 + 1) % colors.size()];
    const std::string& shape = shapes[(i / 5) % shapes.size()];
    const std::string& other_shape = shapes[(i / 7 + 2) % shapes.size()];
    const std::string& place = places[(i / 11) % places.size()];
    switch (i % 4) {
      case 0:
        captions.push_back("a " + size + " " + color + " " + shape + " on the " + place);
        break;
      case 1:
        captions.push_back("two " + color + " " + shape + "s near the " + place + " edge");
        break;
      case 2:
        captions.push_back("a " + color + " " + shape + " above a " + size + " " + other_color +
                           " " + other_shape);
        break;
      default:
        captions.push_back("the " + shape + " in the " + place + " is " + color);
        break;
    }
  }
  return captions;
}

const std::vector<std::string>& captions() {
  static const std::vector<std::string> all = make_captions();
  return all;
}

const std::string& trained_model() {
  static const std::string bytes = train_sentencepiece(captions(), kVocabSize, kSeed);
  return bytes;
}

TEST(SentencePieceTokenizer, RoundTripsCaptionsInTheProcessThatRunsLibTorch) {
  // LibTorch goes first so that its protobuf and runtime are live when SentencePiece loads.
  torch::manual_seed(0);
  torch::nn::Linear linear(4, 3);
  const torch::Tensor y = linear->forward(torch::ones({2, 4}));
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{2, 3}));
  ASSERT_TRUE(torch::isfinite(y).all().item<bool>());

  const auto tokenizer = load_sentencepiece(trained_model());
  for (const auto& caption : captions()) {
    const std::vector<int64_t> ids = tokenizer->encode(caption);
    ASSERT_FALSE(ids.empty()) << caption;
    for (const int64_t id : ids) {
      EXPECT_GT(id, tokenizer->eos_id()) << "special or unknown piece in: " << caption;
      EXPECT_LT(id, tokenizer->vocab_size()) << caption;
    }
    EXPECT_EQ(tokenizer->decode(ids), caption);
  }
}

TEST(SentencePieceTokenizer, TrainedModelsUseTheFixedSpecialIds) {
  const auto tokenizer = load_sentencepiece(trained_model());
  EXPECT_EQ(tokenizer->pad_id(), 0);
  EXPECT_EQ(tokenizer->bos_id(), 2);
  EXPECT_EQ(tokenizer->eos_id(), 3);
  EXPECT_EQ(tokenizer->type(), "sentencepiece");
  EXPECT_EQ(tokenizer->model_bytes(), trained_model());
  const std::vector<int64_t> unseen = tokenizer->encode("zzz qqq");
  EXPECT_NE(std::find(unseen.begin(), unseen.end(), 1), unseen.end()) << "no unk (1) for z and q";
}

TEST(SentencePieceTokenizer, TrainingIsDeterministicForASeed) {
  EXPECT_EQ(train_sentencepiece(captions(), kVocabSize, kSeed), trained_model());
}

TEST(SentencePieceTokenizer, VocabularyMayComeOutSmallerThanRequested) {
  const auto tokenizer = load_sentencepiece(train_sentencepiece(captions(), 5000, kSeed));
  EXPECT_LT(tokenizer->vocab_size(), 5000);
  EXPECT_GT(tokenizer->vocab_size(), 4);
}

TEST(SentencePieceTokenizer, BpeAndWordModelsKeepEveryRepeatedWordWhole) {
  for (const std::string type : {"bpe", "word"}) {
    const auto tokenizer = load_sentencepiece(train_sentencepiece(captions(), 400, kSeed, type));
    for (const std::string word : {"purple", "triangle", "hexagon", "bottom"}) {
      EXPECT_EQ(tokenizer->encode(word).size(), 1u) << type << ": " << word;
    }
    EXPECT_EQ(tokenizer->decode(tokenizer->encode(captions()[2])), captions()[2]) << type;
  }
}

TEST(SentencePieceTokenizer, CharModelsSplitEveryCharacter) {
  const auto tokenizer = load_sentencepiece(train_sentencepiece(captions(), kVocabSize, kSeed, "char"));
  // "▁" before the word, then one piece per letter.
  EXPECT_EQ(tokenizer->encode("purple").size(), 7u);
}

TEST(SentencePieceTokenizer, TrainingRejectsUnusableArguments) {
  EXPECT_THROW(train_sentencepiece(captions(), kVocabSize, kSeed, "wordpiece"), std::invalid_argument);
  // The type becomes part of SentencePiece's flags: nothing else may ride along with it.
  EXPECT_THROW(train_sentencepiece(captions(), kVocabSize, kSeed, "bpe --vocab_size=9"), std::invalid_argument);
  EXPECT_THROW(train_sentencepiece({}, kVocabSize, kSeed), std::invalid_argument);
  EXPECT_THROW(train_sentencepiece(captions(), 0, kSeed), std::invalid_argument);
  // Smaller than the captions' character set plus the four special pieces.
  EXPECT_THROW(train_sentencepiece(captions(), 5, kSeed), std::runtime_error);
}

TEST(SentencePieceTokenizer, TokenizeIntoPadsAndKeepsEosWhenTruncating) {
  const auto tokenizer = load_sentencepiece(trained_model());
  const std::string caption = captions().front();
  const std::vector<int64_t> ids = tokenizer->encode(caption);
  ASSERT_GE(ids.size(), 3u);
  constexpr int64_t kUntouched = -7;
  const auto tokenize = [&](int context_length) {
    // One slot past the end checks that nothing is written beyond context_length.
    std::vector<int64_t> out(context_length + 1, kUntouched);
    tokenize_into(*tokenizer, caption, context_length, out.data());
    EXPECT_EQ(out.back(), kUntouched);
    out.pop_back();
    return out;
  };
  const int64_t bos = tokenizer->bos_id();
  const int64_t eos = tokenizer->eos_id();
  const int64_t pad = tokenizer->pad_id();

  std::vector<int64_t> padded = {bos};
  padded.insert(padded.end(), ids.begin(), ids.end());
  padded.insert(padded.end(), {eos, pad, pad, pad});
  EXPECT_EQ(tokenize(static_cast<int>(ids.size()) + 5), padded);

  EXPECT_EQ(tokenize(4), (std::vector<int64_t>{bos, ids[0], ids[1], eos}));
  EXPECT_EQ(tokenize(2), (std::vector<int64_t>{bos, eos}));

  int64_t out[1];
  EXPECT_THROW(tokenize_into(*tokenizer, caption, 1, out), std::invalid_argument);
  EXPECT_THROW(tokenize_into(*tokenizer, caption, 0, out), std::invalid_argument);
}

TEST(SentencePieceTokenizer, LoadRejectsBytesThatAreNotAModel) {
  EXPECT_THROW(load_sentencepiece("this is not a sentencepiece model"), std::runtime_error);
  EXPECT_THROW(load_sentencepiece(""), std::runtime_error);
  EXPECT_THROW(load_sentencepiece(trained_model().substr(0, trained_model().size() / 2)),
               std::runtime_error);
}

TEST(SentencePieceTokenizer, DecodeRejectsIdsOutsideTheVocabulary) {
  const auto tokenizer = load_sentencepiece(trained_model());
  EXPECT_THROW(tokenizer->decode({tokenizer->vocab_size()}), std::runtime_error);
  EXPECT_THROW(tokenizer->decode({-1}), std::runtime_error);
  EXPECT_THROW(tokenizer->decode({int64_t{1} << 32}), std::runtime_error);
}

TEST(SentencePieceTokenizer, EncodeIsSafeFromManyThreads) {
  const auto tokenizer = load_sentencepiece(trained_model());
  std::vector<std::vector<int64_t>> expected;
  for (const auto& caption : captions()) expected.push_back(tokenizer->encode(caption));

  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        for (size_t i = 0; i < captions().size(); ++i) {
          if (tokenizer->encode(captions()[i]) != expected[i]) ++mismatches;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace mmtrain
