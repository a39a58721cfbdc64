// Re-ranking with a fused model's match head, as ALBEF evaluates: the dual-encoder similarity picks
// each query's top-k candidates, the match score orders them, and they stay ahead of the rest.
#pragma once

#include <cstdint>
#include <functional>

#include <torch/types.h>

namespace mmtrain {

// Match logits of P pairs: row indices [P], column indices [P] (int64) -> [P].
using PairScorer = std::function<torch::Tensor(const torch::Tensor& rows, const torch::Tensor& cols)>;

// scores [N,M] -> [N,M]: each row's top-k columns get scores above every other column of the
// matrix, ordered by their match logit; the other entries are unchanged. The scorer is called on
// at most `pairs_per_call` pairs at a time.
torch::Tensor rerank_top_k(const torch::Tensor& scores, int64_t k, const PairScorer& score_pairs,
                           int64_t pairs_per_call);

}  // namespace mmtrain
