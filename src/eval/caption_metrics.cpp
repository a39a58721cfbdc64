// BLEU, ROUGE-L and CIDEr-D following pycocoevalcap 1.2 (bleu/bleu_scorer.py, rouge/rouge.py,
// cider/cider_scorer.py) operation for operation where the order changes the result, so the scores
// agree to rounding. Each quirk kept on purpose is marked "as pycocoevalcap".
#include "mmtrain/eval/caption_metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace mmtrain {
namespace {

constexpr int kMaxN = 4;              // n-gram orders 1..4 for BLEU and CIDEr-D
constexpr double kRougeBeta = 1.2;    // recall weight of ROUGE-L's F-measure
constexpr double kCiderSigma = 6.0;   // width of CIDEr-D's Gaussian length penalty
constexpr double kCiderScale = 10.0;  // CIDEr-D's final factor

// ---------------------------------------------------------------------------------------------
// Tokenisation (approximating PTBTokenizer -lowerCase + the wrapper's punctuation filter)

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// ASCII A-Z and UTF-8 Latin-1 capitals U+00C0..U+00DE (bar U+00D7, the multiplication sign),
// which are 0xC3 0x80..0x9E and lower-case by adding 0x20 to the second byte.
std::string lower_case(const std::string& text) {
  std::string out = text;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto byte = static_cast<unsigned char>(out[i]);
    if (byte >= 'A' && byte <= 'Z') {
      out[i] = static_cast<char>(byte + 32);
    } else if (byte == 0xC3 && i + 1 < out.size()) {
      const auto next = static_cast<unsigned char>(out[i + 1]);
      if (next >= 0x80 && next <= 0x9E && next != 0x97) out[i + 1] = static_cast<char>(next + 0x20);
      ++i;
    }
  }
  return out;
}

std::vector<std::string> split_whitespace(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (!is_space(c)) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// PTB's lower-cased bracket token for c, or "" when c is not a bracket.
std::string bracket_token(char c) {
  switch (c) {
    case '(': return "-lrb-";
    case ')': return "-rrb-";
    case '[': return "-lsb-";
    case ']': return "-rsb-";
    case '{': return "-lcb-";
    case '}': return "-rcb-";
    default: return "";
  }
}

// The tokens pycocoevalcap's wrapper drops (its PUNCTUATIONS list). The list's "-LRB-" etc. never
// match: PTB has lower-cased them already, so they are absent here and survive, as in COCO.
bool is_dropped_punctuation(const std::string& token) {
  static const std::unordered_set<std::string> dropped = {"''", "'", "``", "`", ".", "?", "!",
                                                          ",", ":", "-", "--", "...", ";"};
  return dropped.count(token) != 0;
}

// Splits a whitespace-free chunk at ',' ';' ':' (which are dropped) unless between two digits,
// so "pear,and" -> "pear" "and" while "1,000" and "3:30" stay whole.
std::vector<std::string> split_at_separators(const std::string& chunk) {
  std::vector<std::string> pieces(1);
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    const bool separator = c == ',' || c == ';' || c == ':';
    const bool inside_number = i > 0 && i + 1 < chunk.size() && is_digit(chunk[i - 1]) && is_digit(chunk[i + 1]);
    if (separator && !inside_number) {
      pieces.emplace_back();
    } else {
      pieces.back() += c;
    }
  }
  return pieces;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Clitics PTB writes as their own token.
const std::vector<std::string>& clitics() {
  static const std::vector<std::string> list = {"n't", "'s", "'re", "'ll", "'ve", "'m", "'d"};
  return list;
}

bool is_clitic(const std::string& word) {
  const auto& list = clitics();
  return std::find(list.begin(), list.end(), word) != list.end();
}

// Removes leading quotes and brackets; brackets become tokens appended to `out`.
void peel_leading(std::string& piece, std::vector<std::string>& out) {
  while (!piece.empty() && !is_clitic(piece)) {
    const char c = piece.front();
    if (c != '"' && c != '\'' && c != '`' && bracket_token(c).empty()) return;
    if (!bracket_token(c).empty()) out.push_back(bracket_token(c));
    piece.erase(0, 1);
  }
}

// Removes trailing punctuation, returning the tokens to emit after the word (in order): brackets,
// and runs of '?'/'!' longer than one. Quotes, a lone '?'/'!', "..." and a final '.' are dropped,
// except the '.' of a word that has another '.' ("u.s.").
std::vector<std::string> peel_trailing(std::string& piece) {
  std::vector<std::string> reversed;
  while (!piece.empty() && !is_clitic(piece)) {
    const char c = piece.back();
    if (c == '"' || c == '\'' || c == '`' || !bracket_token(c).empty()) {
      if (!bracket_token(c).empty()) reversed.push_back(bracket_token(c));
      piece.pop_back();
    } else if (c == '?' || c == '!') {
      const std::size_t start = piece.find_last_not_of("?!") + 1;  // npos + 1 == 0
      if (piece.size() - start > 1) reversed.push_back(piece.substr(start));
      piece.erase(start);
    } else if (c == '.') {
      const std::size_t start = piece.find_last_not_of('.') + 1;
      const bool single = piece.size() - start == 1;
      if (single && piece.find('.') < start) return {reversed.rbegin(), reversed.rend()};
      piece.erase(start);
    } else {
      break;
    }
  }
  return {reversed.rbegin(), reversed.rend()};
}

// "cannot" -> "can" "not" and the like, as PTB splits them; empty when `word` is not one.
std::vector<std::string> split_contraction(const std::string& word) {
  static const std::unordered_map<std::string, std::vector<std::string>> table = {
      {"cannot", {"can", "not"}}, {"gonna", {"gon", "na"}}, {"gotta", {"got", "ta"}},
      {"wanna", {"wan", "na"}},   {"gimme", {"gim", "me"}}, {"lemme", {"lem", "me"}}};
  const auto found = table.find(word);
  return found == table.end() ? std::vector<std::string>{} : found->second;
}

// Appends `word` with its clitics split off: "i'd've" -> "i" "'d" "'ve".
void append_with_clitics(std::string word, std::vector<std::string>& out) {
  const auto contraction = split_contraction(word);
  if (!contraction.empty()) {
    out.insert(out.end(), contraction.begin(), contraction.end());
    return;
  }
  std::vector<std::string> reversed;
  for (bool found = true; found;) {
    found = false;
    for (const auto& clitic : clitics()) {
      if (word.size() > clitic.size() && ends_with(word, clitic)) {
        reversed.push_back(clitic);
        word.erase(word.size() - clitic.size());
        found = true;
        break;
      }
    }
  }
  out.push_back(word);
  out.insert(out.end(), reversed.rbegin(), reversed.rend());
}

void append_piece_words(std::string piece, std::vector<std::string>& out) {
  peel_leading(piece, out);
  const auto after = peel_trailing(piece);
  if (!piece.empty()) append_with_clitics(piece, out);
  out.insert(out.end(), after.begin(), after.end());
}

// ---------------------------------------------------------------------------------------------
// Shared scoring helpers

void check_inputs(const std::vector<std::string>& hypotheses,
                  const std::vector<std::vector<std::string>>& references) {
  if (hypotheses.size() != references.size()) {
    throw std::invalid_argument("caption metrics: " + std::to_string(hypotheses.size()) + " hypotheses but " +
                                std::to_string(references.size()) + " reference lists (need one per image)");
  }
  if (hypotheses.empty()) throw std::invalid_argument("caption metrics: no images to score");
  for (std::size_t i = 0; i < references.size(); ++i) {
    if (references[i].empty()) {
      throw std::invalid_argument("caption metrics: image " + std::to_string(i) + " has no reference captions");
    }
  }
}

// n-gram -> count for one order; an n-gram is its words joined by ' ' (words hold no whitespace).
using NgramCounts = std::unordered_map<std::string, int>;
// Index n-1 holds the n-grams of order n.
using NgramsByOrder = std::array<NgramCounts, kMaxN>;

// words -> counts of every n-gram of order 1..4, as pycocoevalcap's precook (split on whitespace).
NgramsByOrder count_ngrams(const std::vector<std::string>& words) {
  NgramsByOrder counts;
  for (int n = 1; n <= kMaxN; ++n) {
    for (std::size_t start = 0; start + n <= words.size(); ++start) {
      std::string ngram = words[start];
      for (int k = 1; k < n; ++k) ngram += ' ' + words[start + k];
      ++counts[n - 1][ngram];
    }
  }
  return counts;
}

double mean(const std::vector<double>& values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// ---------------------------------------------------------------------------------------------
// BLEU

// What BLEU keeps of one image: lengths and per-order clipped matches / hypothesis n-grams.
struct BleuCounts {
  long test_length = 0;
  long ref_length = 0;  // the reference length closest to test_length
  std::array<long, kMaxN> guess{};
  std::array<long, kMaxN> correct{};
};

// Closest reference length; ties go to the shorter reference, as pycocoevalcap's
// min((abs(l - testlen), l)).
long closest_length(const std::vector<long>& ref_lengths, long test_length) {
  long best = ref_lengths.front();
  for (long length : ref_lengths) {
    const long distance = std::labs(length - test_length), best_distance = std::labs(best - test_length);
    if (distance < best_distance || (distance == best_distance && length < best)) best = length;
  }
  return best;
}

BleuCounts bleu_counts(const std::string& hypothesis, const std::vector<std::string>& references) {
  std::vector<long> ref_lengths;
  std::array<NgramCounts, kMaxN> max_ref_counts;  // per n-gram, its most occurrences in one reference
  for (const auto& reference : references) {
    const auto words = split_whitespace(reference);
    ref_lengths.push_back(static_cast<long>(words.size()));
    const auto counts = count_ngrams(words);
    for (int n = 0; n < kMaxN; ++n) {
      for (const auto& [ngram, count] : counts[n]) max_ref_counts[n][ngram] = std::max(max_ref_counts[n][ngram], count);
    }
  }
  const auto words = split_whitespace(hypothesis);
  BleuCounts result;
  result.test_length = static_cast<long>(words.size());
  result.ref_length = closest_length(ref_lengths, result.test_length);
  const auto counts = count_ngrams(words);
  for (int n = 0; n < kMaxN; ++n) {
    result.guess[n] = std::max(0L, result.test_length - n);
    for (const auto& [ngram, count] : counts[n]) {
      const auto found = max_ref_counts[n].find(ngram);
      result.correct[n] += std::min<long>(count, found == max_ref_counts[n].end() ? 0 : found->second);
    }
  }
  return result;
}

// BLEU-1..4 from (summed) counts, as pycocoevalcap: the precision product uses tiny/small
// offsets so zero matches give ~0 rather than 0/0, and the brevity penalty exp(1 - r/c) applies
// when the hypothesis is shorter (ratio < 1), again with the offsets against c = 0.
std::array<double, kMaxN> bleu_from_counts(const BleuCounts& counts) {
  constexpr double kSmall = 1e-9, kTiny = 1e-15;
  std::array<double, kMaxN> bleu{};
  double product = 1.0;
  for (int n = 0; n < kMaxN; ++n) {
    product *= (static_cast<double>(counts.correct[n]) + kTiny) / (static_cast<double>(counts.guess[n]) + kSmall);
    bleu[n] = std::pow(product, 1.0 / (n + 1));
  }
  const double ratio =
      (static_cast<double>(counts.test_length) + kTiny) / (static_cast<double>(counts.ref_length) + kSmall);
  if (ratio < 1.0) {
    for (double& value : bleu) value *= std::exp(1.0 - 1.0 / ratio);
  }
  return bleu;
}

// ---------------------------------------------------------------------------------------------
// ROUGE-L

// Python's str.split(" "), which pycocoevalcap's Rouge uses: "" -> {""}, and doubled spaces
// give empty tokens. Identical to whitespace splitting for well-formed tokenised captions.
std::vector<std::string> split_single_spaces(const std::string& text) {
  std::vector<std::string> tokens(1);
  for (char c : text) {
    if (c == ' ') {
      tokens.emplace_back();
    } else {
      tokens.back() += c;
    }
  }
  return tokens;
}

// Length of the longest common subsequence, two rows of the usual table.
std::size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::size_t> previous(b.size() + 1, 0), current(b.size() + 1, 0);
  for (const auto& word : a) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      current[j] = word == b[j - 1] ? previous[j - 1] + 1 : std::max(previous[j], current[j - 1]);
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// F-measure of the best precision and best recall, each maximised over references separately.
double rouge_l_image(const std::string& hypothesis, const std::vector<std::string>& references) {
  const auto candidate = split_single_spaces(hypothesis);
  double best_precision = 0.0, best_recall = 0.0;
  for (const auto& reference : references) {
    const auto ref_words = split_single_spaces(reference);
    const auto lcs = static_cast<double>(lcs_length(ref_words, candidate));
    best_precision = std::max(best_precision, lcs / static_cast<double>(candidate.size()));
    best_recall = std::max(best_recall, lcs / static_cast<double>(ref_words.size()));
  }
  if (best_precision == 0.0 || best_recall == 0.0) return 0.0;
  const double beta2 = kRougeBeta * kRougeBeta;
  return (1 + beta2) * best_precision * best_recall / (best_recall + beta2 * best_precision);
}

// ---------------------------------------------------------------------------------------------
// CIDEr-D

// Number of images whose references contain each n-gram (any order, keyed by the joined words).
using DocumentFrequency = std::unordered_map<std::string, double>;

DocumentFrequency document_frequency(const std::vector<std::vector<NgramsByOrder>>& references) {
  DocumentFrequency frequency;
  for (const auto& image_refs : references) {
    std::unordered_set<std::string> seen;
    for (const auto& ref : image_refs) {
      for (const auto& order : ref) {
        for (const auto& entry : order) seen.insert(entry.first);
      }
    }
    for (const auto& ngram : seen) frequency[ngram] += 1.0;
  }
  return frequency;
}

// One caption as tf-idf weights per order, their L2 norms, and its length.
struct TfIdfVector {
  std::array<std::unordered_map<std::string, double>, kMaxN> weights;
  std::array<double, kMaxN> norm{};
  long length = 0;
};

// tf * (log N - log max(1, df)); an n-gram no reference has gets the full log N. As
// pycocoevalcap, `length` counts the caption's bigrams (its `if n == 1` is the bigram order), so
// it is words - 1; only the difference of two lengths is used.
TfIdfVector tf_idf(const NgramsByOrder& counts, const DocumentFrequency& frequency, double log_images) {
  TfIdfVector vec;
  for (int n = 0; n < kMaxN; ++n) {
    for (const auto& [ngram, term_frequency] : counts[n]) {
      const auto found = frequency.find(ngram);
      const double df = found == frequency.end() ? 0.0 : found->second;
      const double weight = static_cast<double>(term_frequency) * (log_images - std::log(std::max(1.0, df)));
      vec.weights[n][ngram] = weight;
      vec.norm[n] += weight * weight;
      if (n == 1) vec.length += term_frequency;
    }
    vec.norm[n] = std::sqrt(vec.norm[n]);
  }
  return vec;
}

// Per order: clipped cosine sum(min(h, r) * r) / (|h| |r|) (left undivided when a norm is 0),
// times the Gaussian penalty on the length difference.
std::array<double, kMaxN> cider_similarity(const TfIdfVector& hyp, const TfIdfVector& ref) {
  const double delta = static_cast<double>(hyp.length - ref.length);
  const double penalty = std::exp(-(delta * delta) / (2 * kCiderSigma * kCiderSigma));
  std::array<double, kMaxN> similarity{};
  for (int n = 0; n < kMaxN; ++n) {
    for (const auto& [ngram, weight] : hyp.weights[n]) {
      const auto found = ref.weights[n].find(ngram);
      const double ref_weight = found == ref.weights[n].end() ? 0.0 : found->second;
      similarity[n] += std::min(weight, ref_weight) * ref_weight;
    }
    if (hyp.norm[n] != 0.0 && ref.norm[n] != 0.0) similarity[n] /= hyp.norm[n] * ref.norm[n];
    similarity[n] *= penalty;
  }
  return similarity;
}

// 10 * mean over orders of the similarity summed over references / number of references.
double cider_d_image(const TfIdfVector& hyp, const std::vector<TfIdfVector>& refs) {
  std::array<double, kMaxN> summed{};
  for (const auto& ref : refs) {
    const auto similarity = cider_similarity(hyp, ref);
    for (int n = 0; n < kMaxN; ++n) summed[n] += similarity[n];
  }
  double order_mean = 0.0;
  for (double value : summed) order_mean += value;
  order_mean /= kMaxN;
  return order_mean / static_cast<double>(refs.size()) * kCiderScale;
}

}  // namespace

std::vector<std::string> caption_words(const std::string& text) {
  std::vector<std::string> tokens;
  for (const auto& chunk : split_whitespace(lower_case(text))) {
    for (const auto& piece : split_at_separators(chunk)) append_piece_words(piece, tokens);
  }
  std::vector<std::string> words;
  for (auto& token : tokens) {
    if (!token.empty() && !is_dropped_punctuation(token)) words.push_back(std::move(token));
  }
  return words;
}

std::string tokenized_caption(const std::string& text) {
  std::string joined;
  for (const auto& word : caption_words(text)) {
    if (!joined.empty()) joined += ' ';
    joined += word;
  }
  return joined;
}

BleuScores bleu_scores(const std::vector<std::string>& hypotheses,
                       const std::vector<std::vector<std::string>>& references) {
  check_inputs(hypotheses, references);
  BleuScores scores;
  BleuCounts total;
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    const auto counts = bleu_counts(hypotheses[i], references[i]);
    scores.per_image.push_back(bleu_from_counts(counts));
    total.test_length += counts.test_length;
    total.ref_length += counts.ref_length;
    for (int n = 0; n < kMaxN; ++n) {
      total.guess[n] += counts.guess[n];
      total.correct[n] += counts.correct[n];
    }
  }
  scores.corpus = bleu_from_counts(total);
  return scores;
}

MeanScores rouge_l(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& references) {
  check_inputs(hypotheses, references);
  MeanScores scores;
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    scores.per_image.push_back(rouge_l_image(hypotheses[i], references[i]));
  }
  scores.corpus = mean(scores.per_image);
  return scores;
}

MeanScores cider_d(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& references) {
  check_inputs(hypotheses, references);
  std::vector<std::vector<NgramsByOrder>> ref_counts(references.size());
  for (std::size_t i = 0; i < references.size(); ++i) {
    for (const auto& reference : references[i]) ref_counts[i].push_back(count_ngrams(split_whitespace(reference)));
  }
  const auto frequency = document_frequency(ref_counts);
  const double log_images = std::log(static_cast<double>(references.size()));  // log N, N = images
  MeanScores scores;
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    const auto hyp = tf_idf(count_ngrams(split_whitespace(hypotheses[i])), frequency, log_images);
    std::vector<TfIdfVector> refs;
    for (const auto& counts : ref_counts[i]) refs.push_back(tf_idf(counts, frequency, log_images));
    scores.per_image.push_back(cider_d_image(hyp, refs));
  }
  scores.corpus = mean(scores.per_image);
  return scores;
}

CaptionScores score_captions(const std::vector<std::string>& hypotheses,
                             const std::vector<std::vector<std::string>>& references) {
  const auto bleu = bleu_scores(hypotheses, references);
  const auto rouge = rouge_l(hypotheses, references);
  const auto cider = cider_d(hypotheses, references);
  CaptionScores scores;
  scores.bleu = bleu.corpus;
  scores.bleu_per_image = bleu.per_image;
  scores.rouge_l = rouge.corpus;
  scores.rouge_l_per_image = rouge.per_image;
  scores.cider_d = cider.corpus;
  scores.cider_d_per_image = cider.per_image;
  return scores;
}

}  // namespace mmtrain
