#include "mmtrain/heads/caption_generation.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mmtrain/heads/caption_decoder.h"

namespace mmtrain {

std::vector<int64_t> repeated_ngram_tokens(const std::vector<int64_t>& prefix, int n) {
  std::vector<int64_t> banned;
  if (n <= 0 || prefix.size() + 1 < static_cast<size_t>(n)) return banned;
  const size_t context = static_cast<size_t>(n) - 1;  // the n-gram's first n-1 tokens end the prefix
  const auto tail = prefix.end() - static_cast<std::ptrdiff_t>(context);
  for (size_t start = 0; start + n <= prefix.size(); ++start) {
    const auto gram = prefix.begin() + static_cast<std::ptrdiff_t>(start);
    if (std::equal(gram, gram + static_cast<std::ptrdiff_t>(context), tail)) banned.push_back(gram[context]);
  }
  return banned;
}

namespace {

constexpr double kNever = -std::numeric_limits<double>::infinity();

// The model's next-token logits for prefixes of the images whose context rows are given.
struct Decoding {
  MultimodalModelImpl& model;
  CaptionDecoderImpl& decoder;
  torch::Tensor context;  // [B,T,W] one row per image
  torch::Tensor blank;    // [1,T,W] a blank image's context (GenerationConfig::contrast), or undefined
  double contrast = 0.0;
  double plausibility = 0.0;

  // prefixes: R rows of equal length, image[r] the image of row r -> [R,V] float on the CPU
  torch::Tensor next(const std::vector<std::vector<int64_t>>& prefixes, const std::vector<int64_t>& image) const {
    const auto rows = static_cast<int64_t>(prefixes.size());
    const auto length = static_cast<int64_t>(prefixes.front().size());
    auto ids = torch::empty({rows, length}, torch::kLong);
    for (int64_t r = 0; r < rows; ++r) std::copy(prefixes[r].begin(), prefixes[r].end(), ids[r].data_ptr<int64_t>());
    const auto device = context.device();
    auto text = model.text().forward(ids.to(device)).tokens;  // [R,l,W]
    auto rows_context = context.index_select(0, torch::tensor(image, torch::kLong).to(device));
    auto logits = decoder.decode(text, rows_context).select(1, length - 1).to(torch::kFloat);  // [R,V]
    if (contrast > 0) logits = without_language_prior(logits, decoder.decode(text, blank.expand({rows, -1, -1})));
    return logits.to(torch::kCPU).contiguous();
  }

  // Contrastive decoding against the language prior: log p(.|image) - contrast * log p(.|blank
  // image), over the tokens at least `plausibility` times as likely as the image's best one (the
  // others -inf), so that a token the image supports is not drowned by what the caption so far
  // makes likely (a colour-shape pair never seen in training). logits [R,V], blank [R,l,V].
  torch::Tensor without_language_prior(const torch::Tensor& logits, const torch::Tensor& blank_logits) const {
    auto with_image = torch::log_softmax(logits, -1);
    auto prior = torch::log_softmax(blank_logits.select(1, blank_logits.size(1) - 1).to(torch::kFloat), -1);
    auto implausible = with_image < (with_image.amax(-1, true) + std::log(plausibility));
    return (with_image - contrast * prior).masked_fill(implausible, -INFINITY);
  }
};

// Each token already in a row's prefix gets its logit divided by the penalty (multiplied when
// negative), as Hugging Face's RepetitionPenaltyLogitsProcessor.
void penalise_repeats(torch::Tensor& logits, const std::vector<std::vector<int64_t>>& prefixes, double penalty) {
  if (penalty == 1.0) return;
  auto* data = logits.data_ptr<float>();
  const int64_t vocab = logits.size(1);
  for (size_t r = 0; r < prefixes.size(); ++r) {
    float* row = data + static_cast<int64_t>(r) * vocab;
    std::vector<bool> done(static_cast<size_t>(vocab), false);
    for (int64_t id : prefixes[r]) {
      if (done[id]) continue;
      done[id] = true;
      row[id] = row[id] < 0 ? static_cast<float>(row[id] * penalty) : static_cast<float>(row[id] / penalty);
    }
  }
}

// logits [R,V] -> what the search ranks: log-probabilities (raw logits in open_clip's mode), with
// end-of-text before min_len generated tokens and n-gram repeats at -inf.
torch::Tensor step_scores(torch::Tensor logits, const std::vector<std::vector<int64_t>>& prefixes, int generated,
                          const GenerationConfig& config, int64_t eos) {
  penalise_repeats(logits, prefixes, config.repetition_penalty);
  auto scores = config.open_clip ? logits : torch::log_softmax(logits, -1).contiguous();
  auto* data = scores.data_ptr<float>();
  const int64_t vocab = scores.size(1);
  for (size_t r = 0; r < prefixes.size(); ++r) {
    float* row = data + static_cast<int64_t>(r) * vocab;
    if (generated < config.min_len) row[eos] = -INFINITY;
    for (int64_t token : repeated_ngram_tokens(prefixes[r], config.no_repeat_ngram)) row[token] = -INFINITY;
  }
  return scores;
}

bool sampling(const GenerationConfig& config) { return config.top_k > 0 || config.top_p < 1.0; }

// One token from row [V] of scores: top-k, then top-p (the smallest set of most likely tokens
// holding top_p of the mass), at the temperature, drawn from `generator`.
int64_t sample_token(const torch::Tensor& scores, const GenerationConfig& config, at::Generator& generator) {
  auto logits = scores / config.temperature;
  auto [sorted, order] = logits.sort(/*dim=*/0, /*descending=*/true);
  auto keep = torch::ones_like(sorted, torch::kBool);
  if (config.top_k > 0 && config.top_k < sorted.size(0)) keep.slice(0, config.top_k).fill_(false);
  if (config.top_p < 1.0) {
    auto probabilities = torch::softmax(sorted, 0);
    auto mass_before = probabilities.cumsum(0) - probabilities;  // mass of the better tokens
    keep = keep.logical_and(mass_before < config.top_p);
  }
  auto weights = torch::softmax(sorted.masked_fill(keep.logical_not(), -INFINITY), 0);
  const auto pick = torch::multinomial(weights, 1, false, generator).item<int64_t>();
  return order[pick].item<int64_t>();
}

int64_t best_token(const torch::Tensor& scores) { return scores.argmax().item<int64_t>(); }

std::vector<GeneratedCaption> greedy_or_sample(const Decoding& decoding, int64_t images, const CaptionTokens& tokens,
                                               const GenerationConfig& config, int max_len, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<std::vector<int64_t>> prefixes(images, std::vector<int64_t>{tokens.bos});
  std::vector<GeneratedCaption> captions(images);
  std::vector<bool> done(images, false);
  for (int step = 0; step < max_len; ++step) {
    std::vector<int64_t> active;
    std::vector<std::vector<int64_t>> rows;
    for (int64_t i = 0; i < images; ++i) {
      if (!done[i]) active.push_back(i), rows.push_back(prefixes[i]);
    }
    if (active.empty()) break;
    const auto scores = step_scores(decoding.next(rows, active), rows, step, config, tokens.eos);
    for (size_t a = 0; a < active.size(); ++a) {
      const auto row = scores[static_cast<int64_t>(a)];
      const int64_t i = active[a];
      if (row.max().item<double>() == kNever) {  // every token banned: the caption ends here
        done[i] = true;
        continue;
      }
      // open_clip's loop spends its last slot on end-of-text whatever the scores.
      const bool forced_end = config.open_clip && step == max_len - 1;
      const int64_t token = forced_end        ? tokens.eos
                            : sampling(config) ? sample_token(row, config, generator)
                                               : best_token(row);
      captions[i].score += row[token].item<double>();
      // open_clip's loop also stops at the padding id (CLIP's is "!").
      if (token == tokens.eos || (config.open_clip && token == tokens.pad)) {
        done[i] = true;
      } else {
        prefixes[i].push_back(token);
        captions[i].ids.push_back(token);
      }
    }
  }
  return captions;
}

struct Hypothesis {
  std::vector<int64_t> prefix;  // start-of-text and the tokens so far
  double sum = 0.0;             // their scores
};

// One image's beams: the live hypotheses and the best finished ones, kept as Hugging Face's
// BeamSearchScorer keeps them (early_stopping false).
class Beam {
 public:
  // length_offset: what a caption's length adds to its generated tokens (1 in open_clip's mode,
  // which counts start-of-text).
  Beam(int width, double length_penalty, int length_offset, int64_t bos)
      : width_(width), length_penalty_(length_penalty), length_offset_(length_offset) {
    live_.push_back({{bos}, 0.0});  // one start: the first step's candidates are all distinct
  }

  bool done() const { return done_; }
  const std::vector<Hypothesis>& live() const { return live_; }

  // scores [H,V] for the H live hypotheses, `generated` tokens after start-of-text so far.
  void advance(const torch::Tensor& scores, int64_t eos, int generated) {
    const int64_t vocab = scores.size(1);
    auto totals = scores.to(torch::kDouble) + sums().unsqueeze(1);  // [H,V]
    auto [values, index] = totals.flatten().topk(std::min<int64_t>(2 * width_, totals.numel()));
    std::vector<Hypothesis> next;
    for (int64_t rank = 0; rank < values.size(0) && static_cast<int>(next.size()) < width_; ++rank) {
      const double total = values[rank].item<double>();
      if (total == kNever) break;
      const int64_t flat = index[rank].item<int64_t>(), token = flat % vocab;
      const Hypothesis& from = live_[flat / vocab];
      if (token == eos) {
        // An end among the first `width` candidates only.
        if (rank < width_) finish(from.prefix, total, generated + 1);
        continue;
      }
      next.push_back({from.prefix, total});
      next.back().prefix.push_back(token);
    }
    live_ = std::move(next);
    // Done when no candidate of this step, at this length, could beat the worst finished caption.
    const bool full = static_cast<int>(finished_.size()) >= width_;
    const double best_candidate = values.numel() > 0 ? values[0].item<double>() : kNever;
    done_ = live_.empty() || (full && score(best_candidate, generated + 1) <= finished_.back().score);
  }

  // At the length limit: live hypotheses count as finished.
  void close(int generated) {
    for (const auto& h : live_) finish(h.prefix, h.sum, generated);
    done_ = true;
  }

  GeneratedCaption best() const {
    if (finished_.empty()) return {};
    return finished_.front();
  }

 private:
  torch::Tensor sums() const {
    std::vector<double> values;
    for (const auto& h : live_) values.push_back(h.sum);
    return torch::tensor(values, torch::kDouble);
  }

  double score(double sum, int generated) const {
    return sum / std::pow(std::max(generated + length_offset_, 1), length_penalty_);
  }

  void finish(const std::vector<int64_t>& prefix, double sum, int generated) {
    GeneratedCaption caption{std::vector<int64_t>(prefix.begin() + 1, prefix.end()), score(sum, generated)};
    const auto at = std::find_if(finished_.begin(), finished_.end(),
                                 [&](const GeneratedCaption& c) { return c.score < caption.score; });
    finished_.insert(at, std::move(caption));
    if (static_cast<int>(finished_.size()) > width_) finished_.pop_back();
  }

  int width_;
  double length_penalty_;
  int length_offset_;
  std::vector<Hypothesis> live_;
  std::vector<GeneratedCaption> finished_;  // best first
  bool done_ = false;
};

std::vector<GeneratedCaption> beam_search(const Decoding& decoding, int64_t images, const CaptionTokens& tokens,
                                          const GenerationConfig& config, int max_len) {
  std::vector<Beam> beams(images, Beam(config.beam, config.length_penalty, config.open_clip ? 1 : 0, tokens.bos));
  for (int step = 0; step < max_len; ++step) {
    std::vector<std::vector<int64_t>> rows;
    std::vector<int64_t> image, first_row;
    for (int64_t i = 0; i < images; ++i) {
      first_row.push_back(static_cast<int64_t>(rows.size()));
      if (beams[i].done()) continue;
      for (const auto& h : beams[i].live()) rows.push_back(h.prefix), image.push_back(i);
    }
    if (rows.empty()) break;
    const auto scores = step_scores(decoding.next(rows, image), rows, step, config, tokens.eos);
    for (int64_t i = 0; i < images; ++i) {
      if (beams[i].done()) continue;
      const auto count = static_cast<int64_t>(beams[i].live().size());
      beams[i].advance(scores.narrow(0, first_row[i], count), tokens.eos, step);
    }
  }
  std::vector<GeneratedCaption> captions;
  for (auto& beam : beams) {
    if (!beam.done()) beam.close(max_len);
    captions.push_back(beam.best());
  }
  return captions;
}

}  // namespace

std::vector<GeneratedCaption> generate_captions(MultimodalModelImpl& model, const torch::Tensor& images,
                                                const CaptionTokens& tokens, const GenerationConfig& config,
                                                uint64_t seed) {
  auto& decoder = caption_decoder_of(model, "caption generation");
  TORCH_CHECK(tokens.context_length >= 2, "caption generation: context length ", tokens.context_length, " leaves no room");
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Decoding decoding{model, decoder, decoder.image_context(model.encode_vision(images, true).tokens), {}};
  if (config.contrast > 0) {
    // The blank image is the mean image: zero after normalisation.
    decoding.blank = decoder.image_context(model.encode_vision(torch::zeros_like(images.slice(0, 0, 1)), true).tokens);
    decoding.contrast = config.contrast;
    decoding.plausibility = config.plausibility;
  }
  const int max_len = std::min(config.max_len, tokens.context_length - 1);
  const int64_t count = images.size(0);
  auto captions = config.beam > 1 && !sampling(config) ? beam_search(decoding, count, tokens, config, max_len)
                                                       : greedy_or_sample(decoding, count, tokens, config, max_len, seed);
  model.train(was_training);
  return captions;
}

}  // namespace mmtrain
