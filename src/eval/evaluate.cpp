#include "mmtrain/eval/evaluate.h"
#include "mmtrain/eval/actions.h"
#include "mmtrain/eval/rollout.h"
#include "mmtrain/eval/vqa.h"

#include <unordered_map>

#include <spdlog/spdlog.h>

#include "mmtrain/errors.h"
#include "mmtrain/eval/captioning.h"
#include "mmtrain/eval/rerank.h"
#include "mmtrain/models/registry.h"

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

void add_rank_metrics(Metrics& metrics, const std::string& prefix, const std::string& suffix,
                      const torch::Tensor& ranks) {
  for (int k : {1, 5, 10}) {
    metrics[prefix + "_R@" + std::to_string(k) + suffix] = ranks.le(k).to(torch::kDouble).mean().item<double>();
  }
  metrics[prefix + "_mean_rank" + suffix] = ranks.to(torch::kDouble).mean().item<double>();
}

}  // namespace

double top_k_accuracy(const torch::Tensor& logits, const torch::Tensor& targets, int64_t k) {
  k = std::min<int64_t>(k, logits.size(1));
  auto top = std::get<1>(logits.topk(k, 1));  // [N,k]
  return top.eq(targets.unsqueeze(1)).any(1).to(torch::kDouble).mean().item<double>();
}

namespace {

std::vector<std::string> class_prompts(const std::vector<std::string>& classnames,
                                       const std::vector<std::string>& templates) {
  std::vector<std::string> prompts;
  for (const auto& name : classnames) {
    for (const auto& pattern : templates) prompts.push_back(fill_template(pattern, name));
  }
  return prompts;
}

torch::Tensor class_embeddings(const torch::Tensor& prompt_embeds, int64_t classes) {
  return normalize_rows(prompt_embeds.view({classes, prompt_embeds.size(0) / classes, -1}).mean(1));
}

}  // namespace

torch::Tensor zero_shot_classifier(EmbedContext& context, const std::vector<std::string>& classnames,
                                   const std::vector<std::string>& templates) {
  auto embeddings = embed_texts(context, class_prompts(classnames, templates));  // [C*T,E]
  return class_embeddings(embeddings, static_cast<int64_t>(classnames.size()));
}

namespace {

std::vector<int64_t> checked_labels(const PairDataset& images, const ZeroShotConfig& config,
                                    size_t classes) {
  std::vector<int64_t> labels;
  for (const auto& sample : images.samples) {
    if (sample.label >= static_cast<int64_t>(classes)) {
      throw DataError(config.path + ":" + std::to_string(sample.line) + ": label " +
                      std::to_string(sample.label) + " but " + config.classnames + " has " +
                      std::to_string(classes) + " classes");
    }
    labels.push_back(sample.label);
  }
  return labels;
}

// Match logits of model pairs, the encoded sets' rows moved to the model's device.
torch::Tensor match_pairs(EmbedContext& context, const EncodedSet& images, const EncodedSet& texts,
                          const torch::Tensor& image_rows, const torch::Tensor& text_rows) {
  torch::NoGradGuard no_grad;
  return context.model->fusion()
      .match(images.rows(image_rows, context.device), texts.rows(text_rows, context.device))
      .to(torch::kCPU, torch::kFloat);
}

void add_zero_shot_metrics(Metrics& metrics, const std::string& suffix, const torch::Tensor& logits,
                           const torch::Tensor& targets) {
  metrics["zeroshot/top1" + suffix] = top_k_accuracy(logits, targets, 1);
  metrics["zeroshot/top5" + suffix] = top_k_accuracy(logits, targets, 5);
}

}  // namespace

Metrics evaluate_zero_shot(EmbedContext& context, const ZeroShotConfig& config, int rerank_k) {
  auto set = read_zero_shot_source(config);
  const auto& classnames = set.classnames;
  const auto templates = config.templates.empty() ? std::vector<std::string>{"a photo of a {}."}
                                                  : read_lines(config.templates);
  if (classnames.empty()) throw DataError(config.classnames + ": no class names");
  auto images = std::make_shared<PairDataset>(std::move(set.images));
  auto targets = torch::tensor(checked_labels(*images, config, classnames.size()), torch::kLong);
  const bool rerank = rerank_k > 0;
  const auto classes = static_cast<int64_t>(classnames.size());
  const auto prompt_count = static_cast<int64_t>(templates.size());
  auto prompts = encode_text_set(context, class_prompts(classnames, templates), rerank);  // [C*T,E]
  auto image_set = encode_image_set(context, images, rerank);                            // [N,E]
  auto logits = torch::matmul(image_set.embeds, class_embeddings(prompts.embeds, classes).t());  // [N,C]
  Metrics metrics;
  add_zero_shot_metrics(metrics, "", logits, targets);
  if (!rerank) return metrics;
  // A class's match score is the mean over its prompts, as its embedding is their mean.
  auto score_pairs = [&](const torch::Tensor& rows, const torch::Tensor& cols) {
    auto prompt_rows = cols.unsqueeze(1) * prompt_count + torch::arange(prompt_count).unsqueeze(0);  // [P,T]
    auto image_rows = rows.unsqueeze(1).expand({-1, prompt_count});                                  // [P,T]
    auto match = match_pairs(context, image_set, prompts, image_rows.flatten(), prompt_rows.flatten());
    return match.view({-1, prompt_count}).mean(1);  // [P]
  };
  const int64_t pairs_per_call = std::max<int64_t>(1, context.batch_size / prompt_count);
  add_zero_shot_metrics(metrics, "_rerank", rerank_top_k(logits, rerank_k, score_pairs, pairs_per_call),
                        targets);
  return metrics;
}

namespace {

void add_retrieval_metrics(Metrics& metrics, const std::string& suffix, const torch::Tensor& i2t,
                           const torch::Tensor& t2i, const torch::Tensor& correct) {
  add_rank_metrics(metrics, "retrieval/image_to_text", suffix, best_correct_rank(i2t, correct));
  add_rank_metrics(metrics, "retrieval/text_to_image", suffix, best_correct_rank(t2i, correct.t()));
}

}  // namespace

ImageCaptions group_captions_by_image(const PairDataset& pairs) {
  ImageCaptions set;
  set.images = std::make_shared<PairDataset>();
  std::unordered_map<std::string, int64_t> image_index;
  for (const auto& sample : pairs.samples) {
    auto [it, added] = image_index.emplace(sample.image_path, static_cast<int64_t>(set.images->samples.size()));
    if (added) {
      set.images->samples.push_back(pair_sample(sample.image_path, {}, -1, sample.line));
      set.captions_of_image.emplace_back();
    }
    for (const auto& caption : sample.captions) {
      set.captions_of_image[it->second].push_back(static_cast<int64_t>(set.captions.size()));
      set.captions.push_back(caption);
      set.caption_image.push_back(it->second);
    }
  }
  return set;
}

Metrics evaluate_retrieval(EmbedContext& context, const RetrievalConfig& config, int rerank_k) {
  const auto set = group_captions_by_image(read_pair_source(config, "eval.retrieval"));
  const bool rerank = rerank_k > 0;
  auto images = encode_image_set(context, set.images, rerank);  // [I,E]
  auto texts = encode_text_set(context, set.captions, rerank);  // [T,E]
  auto scores = torch::matmul(images.embeds, texts.embeds.t());  // [I,T]
  auto owner = torch::tensor(set.caption_image, torch::kLong);   // [T]
  auto correct = owner.unsqueeze(0).eq(torch::arange(images.embeds.size(0), torch::kLong).unsqueeze(1));  // [I,T]
  Metrics metrics;
  add_retrieval_metrics(metrics, "", scores, scores.t(), correct);
  if (!rerank) return metrics;
  auto image_queries = [&](const torch::Tensor& rows, const torch::Tensor& cols) {
    return match_pairs(context, images, texts, rows, cols);
  };
  auto text_queries = [&](const torch::Tensor& rows, const torch::Tensor& cols) {
    return match_pairs(context, images, texts, cols, rows);
  };
  add_retrieval_metrics(metrics, "_rerank",
                        rerank_top_k(scores, rerank_k, image_queries, context.batch_size),
                        rerank_top_k(scores.t(), rerank_k, text_queries, context.batch_size), correct);
  return metrics;
}

namespace {

// The embedding metrics: zero-shot and retrieval, each when its set is given.
Metrics evaluate_embeddings(EmbedContext& context, const EvalConfig& config) {
  Metrics metrics;
  if (!config.zeroshot.path.empty()) metrics.merge(evaluate_zero_shot(context, config.zeroshot, config.rerank_k));
  if (!config.retrieval.path.empty()) metrics.merge(evaluate_retrieval(context, config.retrieval, config.rerank_k));
  return metrics;
}

// The embedding metrics again on degraded images, each under its name plus the suffix.
Metrics evaluate_degraded(const EmbedContext& clean, const EvalConfig& config) {
  Metrics metrics;
  for (const Degradation kind : evaluated_degradations()) {
    EmbedContext context = clean;
    context.degradation = kind;
    for (const auto& [key, value] : evaluate_embeddings(context, config)) metrics[key + degradation_suffix(kind)] = value;
  }
  return metrics;
}

}  // namespace

Metrics evaluate(EmbedContext& context, const EvalConfig& config, std::vector<CaptionSample>* captions,
                 VqaEvalResult* vqa, std::vector<RolloutResult>* rollouts) {
  if (config.rerank_k > 0) {
    ModelNeeds rerank;
    rerank.match_head = true;
    const std::string unmet = unmet_needs(rerank, descriptor_of(context.model->fusion()));
    if (!unmet.empty()) {
      throw ConfigError("eval.rerank_k: " + std::to_string(config.rerank_k) + " re-ranks with the match head, but " +
                        unmet + "; or use 0");
    }
  }
  Metrics metrics = evaluate_embeddings(context, config);
  if (config.degraded) metrics.merge(evaluate_degraded(context, config));
  if (!config.captioning.path.empty()) {
    auto result = evaluate_captioning(context, config.captioning);
    metrics.merge(result.metrics);
    if (captions) *captions = std::move(result.captions);
  }
  if (!config.vqa.path.empty()) {
    auto result = evaluate_vqa(context, config.vqa);
    metrics.merge(result.metrics);
    if (vqa) *vqa = std::move(result);
  }
  if (!config.actions.path.empty()) metrics.merge(evaluate_actions(context, config.actions));
  if (config.rollout.episodes > 0) {
    auto results = evaluate_rollouts(context, config.rollout);
    metrics.merge(rollout_metrics(results));
    if (rollouts) *rollouts = std::move(results);
  }
  return metrics;
}

}  // namespace mmtrain
