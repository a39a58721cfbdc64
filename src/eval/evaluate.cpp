#include "mmtrain/eval/evaluate.h"

#include <unordered_map>

#include <spdlog/spdlog.h>

#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

std::string fill_template(const std::string& pattern, const std::string& classname) {
  const auto at = pattern.find("{}");
  if (at == std::string::npos) return pattern + " " + classname;
  return pattern.substr(0, at) + classname + pattern.substr(at + 2);
}

torch::Tensor normalize_rows(const torch::Tensor& x) {
  return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(-1));
}

// 1-based rank of the best-ranked correct column for each row. scores [N,M], correct [N,M] bool.
torch::Tensor best_correct_rank(const torch::Tensor& scores, const torch::Tensor& correct) {
  auto best_correct = scores.masked_fill(correct.logical_not(), -INFINITY).amax(1, true);  // [N,1]
  return (scores > best_correct).sum(1) + 1;  // [N]
}

void add_rank_metrics(Metrics& metrics, const std::string& prefix, const torch::Tensor& ranks) {
  for (int k : {1, 5, 10}) {
    metrics[prefix + "_R@" + std::to_string(k)] = ranks.le(k).to(torch::kDouble).mean().item<double>();
  }
  metrics[prefix + "_mean_rank"] = ranks.to(torch::kDouble).mean().item<double>();
}

}  // namespace

double top_k_accuracy(const torch::Tensor& logits, const torch::Tensor& targets, int64_t k) {
  k = std::min<int64_t>(k, logits.size(1));
  auto top = std::get<1>(logits.topk(k, 1));  // [N,k]
  return top.eq(targets.unsqueeze(1)).any(1).to(torch::kDouble).mean().item<double>();
}

torch::Tensor zero_shot_classifier(EmbedContext& context, const std::vector<std::string>& classnames,
                                   const std::vector<std::string>& templates) {
  std::vector<std::string> prompts;
  for (const auto& name : classnames) {
    for (const auto& pattern : templates) prompts.push_back(fill_template(pattern, name));
  }
  auto embeddings = embed_texts(context, prompts);  // [C*T,E]
  const auto classes = static_cast<int64_t>(classnames.size());
  return normalize_rows(embeddings.view({classes, static_cast<int64_t>(templates.size()), -1}).mean(1));
}

Metrics evaluate_zero_shot(EmbedContext& context, const ZeroShotConfig& config) {
  const auto classnames = read_lines(config.classnames);
  const auto templates = config.templates.empty() ? std::vector<std::string>{"a photo of a {}."}
                                                  : read_lines(config.templates);
  if (classnames.empty()) throw DataError(config.classnames + ": no class names");
  auto images = std::make_shared<PairDataset>(
      read_labelled_csv(config.path, config.image_key, config.label_key, config.separator[0]));
  std::vector<int64_t> labels;
  for (const auto& sample : images->samples) {
    if (sample.label >= static_cast<int64_t>(classnames.size())) {
      throw DataError(config.path + ":" + std::to_string(sample.line) + ": label " +
                      std::to_string(sample.label) + " but " + config.classnames + " has " +
                      std::to_string(classnames.size()) + " classes");
    }
    labels.push_back(sample.label);
  }
  auto classifier = zero_shot_classifier(context, classnames, templates);  // [C,E]
  auto logits = torch::matmul(embed_images(context, images), classifier.t());  // [N,C]
  auto targets = torch::tensor(labels, torch::kLong);
  return {{"zeroshot/top1", top_k_accuracy(logits, targets, 1)},
          {"zeroshot/top5", top_k_accuracy(logits, targets, 5)}};
}

Metrics evaluate_retrieval(EmbedContext& context, const RetrievalConfig& config) {
  const auto pairs = read_pair_csv(config.path, config.image_key, config.caption_key, config.separator[0]);
  // An image listed on several rows (COCO's five captions) is one image with several captions.
  auto images = std::make_shared<PairDataset>();
  std::unordered_map<std::string, int64_t> image_index;
  std::vector<std::string> captions;
  std::vector<int64_t> caption_image;
  for (const auto& sample : pairs.samples) {
    auto [it, added] = image_index.emplace(sample.image_path, static_cast<int64_t>(images->samples.size()));
    if (added) images->samples.push_back(PairSample{sample.image_path, {}, -1, sample.line});
    for (const auto& caption : sample.captions) {
      captions.push_back(caption);
      caption_image.push_back(it->second);
    }
  }
  auto image_embeds = embed_images(context, images);  // [I,E]
  auto text_embeds = embed_texts(context, captions);   // [T,E]
  auto scores = torch::matmul(image_embeds, text_embeds.t());  // [I,T]
  auto owner = torch::tensor(caption_image, torch::kLong);      // [T]
  auto correct = owner.unsqueeze(0).eq(torch::arange(static_cast<int64_t>(images->samples.size()), torch::kLong).unsqueeze(1));  // [I,T]
  Metrics metrics;
  add_rank_metrics(metrics, "retrieval/image_to_text", best_correct_rank(scores, correct));
  add_rank_metrics(metrics, "retrieval/text_to_image", best_correct_rank(scores.t(), correct.t()));
  return metrics;
}

Metrics evaluate(EmbedContext& context, const EvalConfig& config) {
  if (config.rerank_k > 0) throw ConfigError("eval.rerank_k: re-ranking with the match head is not available yet; use 0");
  Metrics metrics;
  if (!config.zeroshot.path.empty()) metrics.merge(evaluate_zero_shot(context, config.zeroshot));
  if (!config.retrieval.path.empty()) metrics.merge(evaluate_retrieval(context, config.retrieval));
  return metrics;
}

}  // namespace mmtrain
