#include "mmtrain/eval/rerank.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "mmtrain/data/dataset.h"
#include "mmtrain/data/loader.h"
#include "mmtrain/errors.h"
#include "mmtrain/eval/evaluate.h"
#include "mmtrain/models/registry.h"
#include "mmtrain/text/build_tokenizer.h"
#include "support/temp_dir.h"
#include "support/tiny_run.h"

namespace mmtrain {
namespace {

// Match logits looked up in a table: what a match head would answer for each (row, column).
PairScorer table_scorer(const torch::Tensor& table, int64_t* calls = nullptr) {
  return [table, calls](const torch::Tensor& rows, const torch::Tensor& cols) {
    if (calls) ++*calls;
    return table.index({rows, cols});
  };
}

TEST(RerankTopK, OrdersTheTopKByMatchAndKeepsThemAboveTheRest) {
  auto scores = torch::tensor({{0.9, 0.8, 0.1}, {0.2, 0.5, 0.4}});
  auto match = torch::tensor({{-3.0, 2.0, 9.0}, {7.0, 1.0, 4.0}});
  auto reranked = rerank_top_k(scores, 2, table_scorer(match), 100);
  // Row 0: candidates 0 and 1; the match head prefers 1; column 2's high match is not consulted.
  auto order0 = std::get<1>(reranked[0].sort(0, true));
  EXPECT_TRUE(order0.equal(torch::tensor({1, 0, 2}, torch::kLong)));
  // Row 1: candidates 1 and 2 (0.5, 0.4); match prefers 2; column 0 stays last.
  auto order1 = std::get<1>(reranked[1].sort(0, true));
  EXPECT_TRUE(order1.equal(torch::tensor({2, 1, 0}, torch::kLong)));
  // Entries outside the candidates are unchanged.
  EXPECT_DOUBLE_EQ(reranked[0][2].item<double>(), scores[0][2].item<double>());
  EXPECT_DOUBLE_EQ(reranked[1][0].item<double>(), scores[1][0].item<double>());
}

TEST(RerankTopK, KLargerThanTheColumnsRanksEverythingByMatch) {
  auto scores = torch::rand({4, 3});
  auto match = torch::randn({4, 3});
  auto reranked = rerank_top_k(scores, 10, table_scorer(match), 100);
  EXPECT_TRUE(std::get<1>(reranked.sort(1, true)).equal(std::get<1>(match.sort(1, true))));
}

TEST(RerankTopK, ScoresPairsInChunksOfTheGivenSize) {
  auto scores = torch::rand({5, 6});
  int64_t calls = 0;
  rerank_top_k(scores, 3, table_scorer(torch::randn({5, 6}), &calls), 4);
  EXPECT_EQ(calls, 4);  // 15 pairs in chunks of 4
}

// A tiny untrained cross-attention model on the built-in data: enough to compare the evaluation's
// re-ranked metrics with the same metrics computed from a brute-force match matrix.
class RerankEval : public ::testing::Test {
 protected:
  void SetUp() override {
    register_builtin_models();
    torch::manual_seed(0);
    data_ = test::write_tiny_data(dir_.path(), 64, 1);
    config_ = test::tiny_config(dir_.path(), data_, 1);
    config_.model.fusion = FusionConfig{"cross_attention", 32, 1, 2};
    config_.eval.batch_size = 16;
    auto train = read_pair_csv(config_.data.train.path, "filepath", "title", '\t');
    tokenizer_ = build_tokenizer(config_.tokenizer, all_captions(train), 0);
  }

  EmbedContext context(const ModelConfig& model_config) {
    auto model = build_model(model_config, TextVocab{tokenizer_->vocab_size(), tokenizer_->eos_id()});
    return make_embed_context(config_, model, tokenizer_, torch::kCPU);
  }

  test::TempDir dir_;
  std::string data_;
  Config config_;
  std::shared_ptr<const Tokenizer> tokenizer_;
};

TEST_F(RerankEval, LateFusionRefusesRerankNamingTheKey) {
  auto late = config_.model;
  late.fusion.type = "late";
  auto ctx = context(late);
  config_.eval.rerank_k = 5;
  try {
    evaluate(ctx, config_.eval);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("eval.rerank_k"), std::string::npos) << e.what();
  }
}

TEST_F(RerankEval, RetrievalRerankOverAllCandidatesEqualsRankingByMatchAlone) {
  auto ctx = context(config_.model);
  const int64_t images = 48;  // retrieval.csv: one caption per image
  auto metrics = evaluate_retrieval(ctx, config_.eval.retrieval, static_cast<int>(images));
  ASSERT_TRUE(metrics.count("retrieval/image_to_text_R@1_rerank"));
  ASSERT_TRUE(metrics.count("retrieval/text_to_image_mean_rank_rerank"));

  // Brute force: the match logit of every (image, caption) pair, ranked directly.
  auto pairs = read_pair_csv(config_.eval.retrieval.path, "filepath", "title", '\t');
  ASSERT_EQ(static_cast<int64_t>(pairs.samples.size()), images);
  std::vector<std::string> captions;
  for (const auto& s : pairs.samples) captions.push_back(s.captions.front());
  auto image_set = encode_image_set(ctx, std::make_shared<PairDataset>(pairs), true);
  auto text_set = encode_text_set(ctx, captions, true);
  torch::NoGradGuard no_grad;
  auto all = torch::arange(images, torch::kLong);
  auto match = torch::empty({images, images});
  for (int64_t i = 0; i < images; ++i) {
    match[i] = ctx.model->fusion().match(image_set.rows(torch::full({images}, i, torch::kLong), torch::kCPU),
                                         text_set.rows(all, torch::kCPU));
  }
  auto diagonal = match.diagonal().unsqueeze(1);
  auto i2t_rank = (match > diagonal).sum(1) + 1;
  auto t2i_rank = (match.t() > diagonal).sum(1) + 1;
  EXPECT_NEAR(metrics["retrieval/image_to_text_R@1_rerank"], i2t_rank.eq(1).to(torch::kDouble).mean().item<double>(), 1e-12);
  EXPECT_NEAR(metrics["retrieval/text_to_image_mean_rank_rerank"], t2i_rank.to(torch::kDouble).mean().item<double>(), 1e-9);
}

TEST_F(RerankEval, ZeroShotReportsRerankedTopKBesideThePlainOnes) {
  auto ctx = context(config_.model);
  auto plain = evaluate_zero_shot(ctx, config_.eval.zeroshot, 0);
  auto reranked = evaluate_zero_shot(ctx, config_.eval.zeroshot, 3);
  EXPECT_FALSE(plain.count("zeroshot/top1_rerank"));
  ASSERT_TRUE(reranked.count("zeroshot/top1_rerank"));
  EXPECT_DOUBLE_EQ(plain["zeroshot/top1"], reranked["zeroshot/top1"]);
  // Re-ranking only reorders the top 3, so whatever was in the top 3 stays in the top 5.
  EXPECT_GE(reranked["zeroshot/top5_rerank"], plain["zeroshot/top1"]);
}

}  // namespace
}  // namespace mmtrain
