// Captioning evaluation: captions generated for a held-out set of images (eval.captioning), scored
// against their references with COCO's BLEU-1..4, ROUGE-L and CIDEr-D (eval/caption_metrics.h),
// and, given attribute groups, the share of captions naming every attribute as the first
// reference does. Metric keys: captioning/bleu_1..4, captioning/rouge_l, captioning/cider,
// captioning/attributes.
#pragma once

#include <string>
#include <vector>

#include "mmtrain/eval/evaluate.h"

namespace mmtrain {

struct CaptionSample {
  std::string image;  // the path the data set gives
  std::string caption;
  double score = 0.0;
  std::vector<std::string> references;
};

struct CaptioningResult {
  Metrics metrics;
  std::vector<CaptionSample> captions;  // every image's, in the set's order
};

// Throws ConfigError when the model has no caption decoder.
CaptioningResult evaluate_captioning(EmbedContext& context, const CaptioningEvalConfig& config);

// The scores of `captions` against their references (the metrics evaluate_captioning reports).
Metrics score_caption_samples(const std::vector<CaptionSample>& captions, const std::string& attributes_path);

}  // namespace mmtrain
