#include "mmtrain/eval/rerank.h"

#include <algorithm>

namespace mmtrain {

torch::Tensor rerank_top_k(const torch::Tensor& scores, int64_t k, const PairScorer& score_pairs,
                           int64_t pairs_per_call) {
  TORCH_CHECK(scores.dim() == 2, "rerank_top_k: scores must be [N,M], got ", scores.sizes());
  TORCH_CHECK(pairs_per_call > 0, "rerank_top_k: pairs_per_call must be positive");
  const int64_t rows = scores.size(0);
  k = std::min(k, scores.size(1));
  if (rows == 0 || k <= 0) return scores.clone();
  auto candidates = std::get<1>(scores.topk(k, 1));  // [N,k]
  auto pair_rows = torch::arange(rows, torch::kLong).repeat_interleave(k);  // [N*k]
  auto pair_cols = candidates.flatten();                                     // [N*k]
  std::vector<torch::Tensor> parts;
  for (int64_t begin = 0; begin < pair_rows.size(0); begin += pairs_per_call) {
    const int64_t end = std::min(begin + pairs_per_call, pair_rows.size(0));
    parts.push_back(score_pairs(pair_rows.slice(0, begin, end), pair_cols.slice(0, begin, end))
                        .to(scores.scalar_type()));
  }
  auto match = torch::cat(parts);  // [N*k]
  // The shift puts the lowest candidate strictly above the highest score outside the candidates.
  auto shift = scores.max() - match.min() + 1;
  auto reranked = scores.clone();
  reranked.scatter_(1, candidates, (match + shift).view({rows, k}));
  return reranked;
}

}  // namespace mmtrain
