#include "mmtrain/text/clip_bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/reference_data.h"
#include "support/temp_dir.h"
#include "test_paths.h"

namespace mmtrain {
namespace {

constexpr int kContextLength = 77;

constexpr const char* kVocabulary = "bpe_simple_vocab_16e6.txt.gz";
constexpr const char* kMeta = "openclip_golden/meta.json";

std::string vocabulary_path() { return test::reference_data(kVocabulary); }

struct Golden {
  std::vector<std::string> captions;
  std::vector<std::vector<int64_t>> tokens;  // open_clip's tokenize(captions), context 77
};

const Golden& golden() {
  static const Golden loaded = [] {
    std::ifstream in(test::reference_data(kMeta));
    const nlohmann::json meta = nlohmann::json::parse(in);
    return Golden{meta.at("captions").get<std::vector<std::string>>(),
                  meta.at("tokens").get<std::vector<std::vector<int64_t>>>()};
  }();
  return loaded;
}

// The vocabulary and open_clip's token ids are reference data (scripts/reference_data.sh), not
// files of the repository.
class ClipBpeTokenizer : public testing::Test {
 protected:
  void SetUp() override {
    MMTRAIN_REQUIRE_REFERENCE_DATA(kVocabulary);
    MMTRAIN_REQUIRE_REFERENCE_DATA(kMeta);
  }

  // Shared by the suite: each load gunzips and indexes 49k merges (about 0.1 s).
  static const Tokenizer& tokenizer() {
    static const std::unique_ptr<Tokenizer> loaded = load_clip_bpe_file(vocabulary_path());
    return *loaded;
  }

  static std::vector<int64_t> tokens(const std::string& caption) {
    std::vector<int64_t> out(kContextLength);
    tokenize_into(tokenizer(), caption, kContextLength, out.data());
    return out;
  }
};

TEST_F(ClipBpeTokenizer, TokensEqualOpenClipsForEveryCaptionInMeta) {
  ASSERT_FALSE(golden().captions.empty());
  ASSERT_EQ(golden().captions.size(), golden().tokens.size());
  for (size_t i = 0; i < golden().captions.size(); ++i) {
    EXPECT_EQ(tokens(golden().captions[i]), golden().tokens[i]) << golden().captions[i];
  }
}

TEST_F(ClipBpeTokenizer, DecodeRoundTripsPlainText) {
  for (const std::string text : {"a photo of two dogs playing in the snow", "naïve café",
                                 "a"}) {
    EXPECT_EQ(tokenizer().decode(tokenizer().encode(text)), text);
  }
  // Decoding gives back the cleaned text: lower case, single spaces.
  EXPECT_EQ(tokenizer().decode(tokenizer().encode("  A RED\tCircle ")), "a red circle");
  EXPECT_EQ(tokenizer().decode({}), "");
  EXPECT_THROW(tokenizer().decode({tokenizer().vocab_size()}), std::out_of_range);
}

TEST_F(ClipBpeTokenizer, SpecialIdsAreClipsOnes) {
  EXPECT_EQ(tokenizer().bos_id(), 49406);
  EXPECT_EQ(tokenizer().eos_id(), 49407);
  EXPECT_EQ(tokenizer().pad_id(), 0);
  EXPECT_EQ(tokenizer().vocab_size(), 49408);
  EXPECT_EQ(tokenizer().type(), "clip_bpe");
  EXPECT_EQ(tokenizer().model_bytes(), test::read_bytes(vocabulary_path()));
  // open_clip's BPE cache starts out holding the special tokens, so text naming them maps to them.
  EXPECT_EQ(tokenizer().encode("<start_of_text>"), std::vector<int64_t>{49406});
  EXPECT_EQ(tokenizer().encode("<END_OF_TEXT>"), std::vector<int64_t>{49407});
}

TEST_F(ClipBpeTokenizer, CleansTextAsOpenClipDoes) {
  const auto same_ids = [](const std::string& raw, const std::string& cleaned) {
    EXPECT_EQ(tokenizer().encode(raw), tokenizer().encode(cleaned)) << raw;
  };
  same_ids("&amp;amp; &lt;3 &#39;&#x41;&quot", "& <3 'a\"");  // html.unescape, twice
  same_ids("&ampx; &bogus;", "&x; &bogus;");  // unknown names keep their text
  same_ids("\u00a0RED\t\ncircle\u3000 &nbsp;", "red circle");
  same_ids("ÉTÉ ΟΔΟΣ Σ İ", "été οδος σ i\u0307");
  EXPECT_TRUE(tokenizer().encode(" \t ").empty());
}

TEST_F(ClipBpeTokenizer, EncodesTheSameFromManyThreads) {
  std::vector<std::vector<int64_t>> expected;
  for (const std::string& caption : golden().captions) expected.push_back(tokens(caption));
  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (size_t i = 0; i < golden().captions.size(); ++i) {
          if (tokens(golden().captions[i] + " " + std::to_string(round)) !=
              tokens(golden().captions[i] + " " + std::to_string(round))) {
            ++mismatches[t];
          }
          if (tokens(golden().captions[i]) != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(kThreads, 0));
}

// Needs no reference data: loading fails before any vocabulary is read.
TEST(ClipBpeTokenizerFiles, MissingFileIsNamed) {
  const std::string path = "/nonexistent/mmtrain/bpe_simple_vocab_16e6.txt.gz";
  try {
    load_clip_bpe_file(path);
    FAIL() << "loaded a missing file";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

TEST(ClipBpeTokenizerFiles, FileThatIsNoVocabularyIsNamed) {
  const test::TempDir dir;
  const std::string path = dir.write("vocab.txt.gz", "#version: 0.2\ni n\n");  // not gzip
  try {
    load_clip_bpe_file(path);
    FAIL() << "loaded a file that is no vocabulary";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("not a CLIP BPE vocabulary"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(load_clip_bpe(""), std::runtime_error);
}

}  // namespace
}  // namespace mmtrain
