// Captions from images with the caption decoder: greedy, beam search (width, length penalty,
// n-gram repetition block) and top-k / top-p sampling from a seed; minimum and maximum length;
// batched; a caption ends at end-of-text. Each step runs the text tower and the decoder over the
// whole prefix again (no cache): captions are short, and the towers stay unchanged.
#pragma once

#include <cstdint>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/models/multimodal_model.h"

namespace mmtrain {

struct GeneratedCaption {
  std::vector<int64_t> ids;  // without start-of-text and end-of-text
  // Beam search: sum of the tokens' log-probabilities / length^length_penalty, length counting
  // end-of-text when the caption reached it; greedy and sampling: the plain sum. In open_clip's
  // mode (GenerationConfig::open_clip) raw logits take the place of log-probabilities, and a
  // beam's length also counts start-of-text.
  double score = 0.0;
};

struct CaptionTokens {
  int64_t bos = 0;
  int64_t eos = 0;
  int context_length = 0;  // the text tower's: caps a caption at context_length - 1 tokens
  int64_t pad = 0;         // ends a greedy or sampled caption in open_clip's mode
};

// images [B,3,H,W] normalised, on the model's device -> B captions. `seed` drives sampling only.
std::vector<GeneratedCaption> generate_captions(MultimodalModelImpl& model, const torch::Tensor& images,
                                                const CaptionTokens& tokens, const GenerationConfig& config,
                                                uint64_t seed = 0);

// The tokens that would repeat an n-gram of `prefix` if appended: the last n-1 tokens of the
// prefix, looked up among its earlier n-grams. Empty when n is 0 or the prefix is shorter than n-1.
std::vector<int64_t> repeated_ngram_tokens(const std::vector<int64_t>& prefix, int n);

}  // namespace mmtrain
