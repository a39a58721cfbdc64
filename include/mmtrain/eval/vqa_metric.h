// VQA accuracy exactly as VQA v2's official evaluation computes it (GT-Vision-Lab/VQA,
// vqaEval.py), quirks included, so that figures compare with published ones:
// - answers are normalised only when the ten annotators disagree (a unanimous "yes" does not
//   match "yes.");
// - normalisation: punctuation removed or turned into a space (removed when it touches a space or
//   the answer has a comma between digits), periods not followed by a digit removed (the first 32
//   only: the official code passes re.UNICODE where re.sub takes its count), lower case, number
//   words to digits ("none" is 0), articles dropped, contractions restored ("dont" -> "don't");
// - a question's accuracy is the mean over the ten annotators of min(1, matches among the other
//   nine / 3).
// Text is treated as bytes: lower-casing and digits are ASCII's (the official code's are Unicode's;
// they differ only for non-ASCII letters and digits).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace mmtrain {

// processPunctuation, then processDigitArticle.
std::string normalize_vqa_answer(const std::string& answer);

// One question: the predicted answer against the annotators' answers (ten in VQA v2; any number
// of at least one here) -> [0, 1]. With fewer than four annotators, full credit needs all the
// others to agree (min(3, n-1) of them), and a single reference answer is an exact match: the
// official rule, which leaves one annotator out, would score any answer 0 there.
double vqa_accuracy(const std::string& predicted, const std::vector<std::string>& answers);

struct VqaQuestionResult {
  std::string question_type;
  double accuracy = 0.0;
};

struct VqaScores {
  double overall = 0.0;                         // mean over questions
  std::map<std::string, double> per_type;       // mean over each question type's questions
};

VqaScores aggregate_vqa(const std::vector<VqaQuestionResult>& results);

}  // namespace mmtrain
