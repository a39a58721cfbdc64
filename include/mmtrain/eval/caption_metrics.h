// COCO caption metrics as pycocoevalcap 1.2 computes them: BLEU-1..4 (Bleu), ROUGE-L (Rouge) and
// CIDEr-D (its Cider class), in plain C++17. Scores agree with pycocoevalcap to 1e-6 on the
// fixture tests/fixtures/caption_metrics.json (tests/fixtures/make_caption_metrics.py writes it).
//
// The scorers take captions already tokenised: lower-case words joined by single spaces, which is
// what pycocoevalcap's scorers receive after its PTBTokenizer. caption_words() is mmtrain's
// tokeniser for raw captions.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace mmtrain {

// Splits a raw caption into the words the scorers compare. This approximates COCO's tokenisation
// (the Java Stanford PTBTokenizer run with -lowerCase, then pycocoevalcap's python wrapper dropping
// the tokens in its PUNCTUATIONS list); mmtrain does not run Java. What it does:
//   - lower-cases ASCII and Latin-1 letters (UTF-8), splits on whitespace;
//   - drops quotes, and "." "," "?" "!" ":" ";" "-" "--" "..." whether standalone or glued to a
//     word ("dog." -> "dog", "pear,and" -> "pear" "and"); a run like "!!!" or "?!" stays a token,
//     as PTB keeps it; "1,000" and "3:30" stay whole;
//   - keeps the final "." of words with an inner "." ("u.s.", "a.m."), as PTB does;
//   - writes brackets as PTB does, lower-cased, which the wrapper then fails to drop:
//     "(" -> "-lrb-", ")" -> "-rrb-", "[" -> "-lsb-", "]" -> "-rsb-", "{" -> "-lcb-", "}" -> "-rcb-";
//   - splits clitics ("dog's" -> "dog" "'s", "doesn't" -> "does" "n't", "they're" -> "they" "'re")
//     and "cannot", "gonna", "gotta", "wanna", "gimme", "lemme" ("can not", "gon na", ...).
// Known differences from PTB: abbreviations such as "mr." lose their period, other Unicode is not
// lower-cased, and rarer PTB rules ("'tis", "rock'n'roll", currency, URLs) are not reproduced.
std::vector<std::string> caption_words(const std::string& text);

// caption_words() joined by single spaces: the form the scorers below take.
std::string tokenized_caption(const std::string& text);

// Corpus BLEU-1..4 and the per-image values pycocoevalcap also returns.
struct BleuScores {
  std::array<double, 4> corpus{};
  std::vector<std::array<double, 4>> per_image;
};

// A metric whose corpus score is the mean of its per-image scores (ROUGE-L, CIDEr-D).
struct MeanScores {
  double corpus = 0.0;
  std::vector<double> per_image;
};

struct CaptionScores {
  std::array<double, 4> bleu{};  // BLEU-1..4, corpus level
  double rouge_l = 0.0;
  double cider_d = 0.0;
  std::vector<double> cider_d_per_image;
  std::vector<double> rouge_l_per_image;
  std::vector<std::array<double, 4>> bleu_per_image;
};

// hypotheses[i]: the one tokenised caption for image i; references[i]: its tokenised reference
// captions (at least one). All three throw std::invalid_argument when the two sizes differ, when
// there are no images, or when an image has no reference.
//
// BLEU as pycocoevalcap's Bleu (bleu_scorer.py, option "closest"): corpus-level clipped n-gram
// counts, the reference length closest to each hypothesis, brevity penalty on the corpus totals.
BleuScores bleu_scores(const std::vector<std::string>& hypotheses,
                       const std::vector<std::vector<std::string>>& references);

// ROUGE-L as pycocoevalcap's Rouge: LCS F-measure with beta 1.2 from the best precision and the
// best recall over the references; corpus score = mean over images.
MeanScores rouge_l(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& references);

// CIDEr-D as pycocoevalcap's Cider: tf-idf n-grams (n = 1..4) with document frequencies taken from
// the references of the images scored together, clipped cosine similarity, Gaussian length penalty
// (sigma 6), times 10, averaged over references; corpus score = mean over images. Scores therefore
// depend on which images are scored together (a single image always scores 0).
MeanScores cider_d(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& references);

// All of the above on one set of images.
CaptionScores score_captions(const std::vector<std::string>& hypotheses,
                             const std::vector<std::vector<std::string>>& references);

}  // namespace mmtrain
