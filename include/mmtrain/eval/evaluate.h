// Zero-shot classification (class names x prompt templates, text embeddings averaged per class)
// and image<->text retrieval (R@1/5/10 and mean rank, both ways). Metric keys as in docs/reference.md.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/eval/embed.h"

namespace mmtrain {

using Metrics = std::map<std::string, double>;

// Class embeddings: [C,E], each the normalised mean of its templates' normalised embeddings.
torch::Tensor zero_shot_classifier(EmbedContext& context, const std::vector<std::string>& classnames,
                                   const std::vector<std::string>& templates);

// rerank_k > 0 also reports every metric re-ranked by the match head, with "_rerank" appended.
Metrics evaluate_zero_shot(EmbedContext& context, const ZeroShotConfig& config, int rerank_k = 0);
Metrics evaluate_retrieval(EmbedContext& context, const RetrievalConfig& config, int rerank_k = 0);
struct CaptionSample;  // eval/captioning.h
struct VqaEvalResult;  // eval/vqa.h
struct RolloutResult;  // eval/rollout.h

// Runs whichever of zero-shot, retrieval, captioning, VQA and action steps has a path, and the
// rollouts when eval.rollout.episodes > 0; an empty result when none does. `captions`, `vqa` and
// `rollouts`, when given, receive the generated captions, the answers and the rollouts.
Metrics evaluate(EmbedContext& context, const EvalConfig& config, std::vector<CaptionSample>* captions = nullptr,
                 VqaEvalResult* vqa = nullptr, std::vector<RolloutResult>* rollouts = nullptr);

// An image listed on several rows (COCO's five captions) is one image with several captions.
struct ImageCaptions {
  std::shared_ptr<PairDataset> images;
  std::vector<std::string> captions;
  std::vector<int64_t> caption_image;                   // captions[c] describes image caption_image[c]
  std::vector<std::vector<int64_t>> captions_of_image;  // per image, its captions' indices
};
ImageCaptions group_captions_by_image(const PairDataset& pairs);

// Fraction of rows whose target is among the k highest logits. logits [N,C], targets [N].
double top_k_accuracy(const torch::Tensor& logits, const torch::Tensor& targets, int64_t k);

}  // namespace mmtrain
