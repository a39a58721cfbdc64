#include "mmtrain/eval/captioning.h"

#include <spdlog/spdlog.h>

#include "mmtrain/errors.h"
#include "mmtrain/eval/caption_attributes.h"
#include "mmtrain/eval/caption_metrics.h"
#include "mmtrain/heads/caption_decoder.h"
#include "mmtrain/heads/caption_generation.h"

namespace mmtrain {

namespace {

double attribute_share(const std::vector<CaptionSample>& captions, const std::string& path) {
  const auto groups = read_attribute_groups(path);
  size_t right = 0;
  for (const auto& sample : captions) {
    right += same_attributes(groups, caption_words(sample.caption), caption_words(sample.references.front())) ? 1 : 0;
  }
  return static_cast<double>(right) / static_cast<double>(captions.size());
}

}  // namespace

Metrics score_caption_samples(const std::vector<CaptionSample>& captions, const std::string& attributes_path) {
  if (captions.empty()) return {};
  std::vector<std::string> hypotheses;
  std::vector<std::vector<std::string>> references;
  for (const auto& sample : captions) {
    hypotheses.push_back(tokenized_caption(sample.caption));
    references.emplace_back();
    for (const auto& reference : sample.references) references.back().push_back(tokenized_caption(reference));
  }
  const CaptionScores scores = score_captions(hypotheses, references);
  Metrics metrics;
  for (size_t n = 0; n < scores.bleu.size(); ++n) metrics["captioning/bleu_" + std::to_string(n + 1)] = scores.bleu[n];
  metrics["captioning/rouge_l"] = scores.rouge_l;
  metrics["captioning/cider"] = scores.cider_d;
  if (!attributes_path.empty()) metrics["captioning/attributes"] = attribute_share(captions, attributes_path);
  return metrics;
}

CaptioningResult evaluate_captioning(EmbedContext& context, const CaptioningEvalConfig& config) {
  caption_decoder_of(*context.model, "eval.captioning");
  const auto set = group_captions_by_image(read_pair_source(config, "eval.captioning"));
  const CaptionTokens tokens{context.tokenizer->bos_id(), context.tokenizer->eos_id(), context.context_length,
                             context.tokenizer->pad_id()};
  CaptioningResult result;
  size_t next = 0;
  for_each_image_batch(context, set.images, [&](const torch::Tensor& images) {
    for (const auto& generated : generate_captions(*context.model, images, tokens, config.generate)) {
      CaptionSample sample;
      sample.image = set.images->samples[next].image_path;
      sample.caption = context.tokenizer->decode(generated.ids);
      sample.score = generated.score;
      for (int64_t c : set.captions_of_image[next]) sample.references.push_back(set.captions[c]);
      result.captions.push_back(std::move(sample));
      ++next;
    }
  });
  result.metrics = score_caption_samples(result.captions, config.attributes);
  return result;
}

}  // namespace mmtrain
