#include "mmtrain/eval/vqa_metric.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <unordered_map>

#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

const std::vector<std::string>& punctuation() {
  static const std::vector<std::string> marks = {";", "/", "[", "]", "\"", "{", "}", "(", ")", "=", "+",
                                                 "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"};
  return marks;
}

// The official list, as it maps (including its own oddities, e.g. "somebody'd" -> "somebodyd").
const std::unordered_map<std::string, std::string>& contractions() {
  static const std::unordered_map<std::string, std::string> table = {
      {"aint", "ain't"}, {"arent", "aren't"}, {"cant", "can't"}, {"couldve", "could've"}, {"couldnt", "couldn't"},
      {"couldn'tve", "couldn't've"}, {"couldnt've", "couldn't've"}, {"didnt", "didn't"}, {"doesnt", "doesn't"},
      {"dont", "don't"}, {"hadnt", "hadn't"}, {"hadnt've", "hadn't've"}, {"hadn'tve", "hadn't've"}, {"hasnt", "hasn't"},
      {"havent", "haven't"}, {"hed", "he'd"}, {"hed've", "he'd've"}, {"he'dve", "he'd've"}, {"hes", "he's"},
      {"howd", "how'd"}, {"howll", "how'll"}, {"hows", "how's"}, {"Id've", "I'd've"}, {"I'dve", "I'd've"},
      {"Im", "I'm"}, {"Ive", "I've"}, {"isnt", "isn't"}, {"itd", "it'd"}, {"itd've", "it'd've"}, {"it'dve", "it'd've"},
      {"itll", "it'll"}, {"let's", "let's"}, {"maam", "ma'am"}, {"mightnt", "mightn't"}, {"mightnt've", "mightn't've"},
      {"mightn'tve", "mightn't've"}, {"mightve", "might've"}, {"mustnt", "mustn't"}, {"mustve", "must've"},
      {"neednt", "needn't"}, {"notve", "not've"}, {"oclock", "o'clock"}, {"oughtnt", "oughtn't"},
      {"ow's'at", "'ow's'at"}, {"'ows'at", "'ow's'at"}, {"'ow'sat", "'ow's'at"}, {"shant", "shan't"},
      {"shed've", "she'd've"}, {"she'dve", "she'd've"}, {"she's", "she's"}, {"shouldve", "should've"},
      {"shouldnt", "shouldn't"}, {"shouldnt've", "shouldn't've"}, {"shouldn'tve", "shouldn't've"},
      {"somebody'd", "somebodyd"}, {"somebodyd've", "somebody'd've"}, {"somebody'dve", "somebody'd've"},
      {"somebodyll", "somebody'll"}, {"somebodys", "somebody's"}, {"someoned", "someone'd"},
      {"someoned've", "someone'd've"}, {"someone'dve", "someone'd've"}, {"someonell", "someone'll"},
      {"someones", "someone's"}, {"somethingd", "something'd"}, {"somethingd've", "something'd've"},
      {"something'dve", "something'd've"}, {"somethingll", "something'll"}, {"thats", "that's"},
      {"thered", "there'd"}, {"thered've", "there'd've"}, {"there'dve", "there'd've"}, {"therere", "there're"},
      {"theres", "there's"}, {"theyd", "they'd"}, {"theyd've", "they'd've"}, {"they'dve", "they'd've"},
      {"theyll", "they'll"}, {"theyre", "they're"}, {"theyve", "they've"}, {"twas", "'twas"}, {"wasnt", "wasn't"},
      {"wed've", "we'd've"}, {"we'dve", "we'd've"}, {"weve", "we've"}, {"werent", "weren't"}, {"whatll", "what'll"},
      {"whatre", "what're"}, {"whats", "what's"}, {"whatve", "what've"}, {"whens", "when's"}, {"whered", "where'd"},
      {"wheres", "where's"}, {"whereve", "where've"}, {"whod", "who'd"}, {"whod've", "who'd've"},
      {"who'dve", "who'd've"}, {"wholl", "who'll"}, {"whos", "who's"}, {"whove", "who've"}, {"whyll", "why'll"},
      {"whyre", "why're"}, {"whys", "why's"}, {"wont", "won't"}, {"wouldve", "would've"}, {"wouldnt", "wouldn't"},
      {"wouldnt've", "wouldn't've"}, {"wouldn'tve", "wouldn't've"}, {"yall", "y'all"}, {"yall'll", "y'all'll"},
      {"y'allll", "y'all'll"}, {"yall'd've", "y'all'd've"}, {"y'alld've", "y'all'd've"}, {"y'all'dve", "y'all'd've"},
      {"youd", "you'd"}, {"youd've", "you'd've"}, {"you'dve", "you'd've"}, {"youll", "you'll"}, {"youre", "you're"},
      {"youve", "you've"}};
  return table;
}

const std::unordered_map<std::string, std::string>& number_words() {
  static const std::unordered_map<std::string, std::string> table = {
      {"none", "0"}, {"zero", "0"}, {"one", "1"}, {"two", "2"},   {"three", "3"}, {"four", "4"},
      {"five", "5"}, {"six", "6"},  {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"}};
  return table;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Python's str.isspace() over ASCII: what str.split() and str.strip() treat as whitespace.
bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1c' && c <= '\x1f'); }

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

bool has_comma_between_digits(const std::string& text) {
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (is_digit(text[i]) && text[i + 1] == ',' && is_digit(text[i + 2])) return true;
  }
  return false;
}

// periodStrip: "." not followed by a digit is removed, at most 32 times (re.sub's count).
std::string strip_periods(const std::string& text) {
  constexpr int kMaxRemovals = 32;
  std::string out;
  int removed = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool digit_follows = i + 1 < text.size() && is_digit(text[i + 1]);
    if (text[i] == '.' && !digit_follows && removed < kMaxRemovals) {
      ++removed;
      continue;
    }
    out += text[i];
  }
  return out;
}

std::string process_punctuation(const std::string& text) {
  std::string out = text;
  const bool comma_digits = has_comma_between_digits(text);
  for (const auto& mark : punctuation()) {
    // The official test reads the original text, the replacement writes the running one.
    const bool touches_space = text.find(mark + " ") != std::string::npos || text.find(" " + mark) != std::string::npos;
    out = replace_all(out, mark, touches_space || comma_digits ? "" : " ");
  }
  return strip_periods(out);
}

std::string process_digit_article(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    const auto number = number_words().find(word);
    if (number != number_words().end()) word = number->second;
    if (word != "a" && word != "an" && word != "the") words.push_back(word);
    word.clear();
  };
  for (char c : text) {
    if (is_space(c)) {
      flush();
    } else {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  flush();
  std::string out;
  for (auto& w : words) {
    const auto contraction = contractions().find(w);
    out += (out.empty() ? "" : " ") + (contraction != contractions().end() ? contraction->second : w);
  }
  return out;
}

// The official code's first clean-up of every answer: newlines and tabs to spaces, then strip().
std::string clean(const std::string& answer) {
  std::string text = answer;
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\t', ' ');
  size_t begin = 0, end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

}  // namespace

std::string normalize_vqa_answer(const std::string& answer) { return process_digit_article(process_punctuation(answer)); }

double vqa_accuracy(const std::string& predicted, const std::vector<std::string>& answers) {
  if (answers.empty()) throw DataError("vqa accuracy: a question without annotator answers");
  std::vector<std::string> truth;
  for (const auto& answer : answers) truth.push_back(clean(answer));
  std::string guess = clean(predicted);
  if (std::set<std::string>(truth.begin(), truth.end()).size() > 1) {
    for (auto& answer : truth) answer = normalize_vqa_answer(answer);
    guess = normalize_vqa_answer(guess);
  }
  const auto matches = static_cast<int>(std::count(truth.begin(), truth.end(), guess));
  if (truth.size() == 1) return matches;  // one reference: leaving it out would leave nothing to match
  // Full credit at 3 other annotators agreeing (VQA v2's ten), or all the others when fewer.
  const double full = std::min<double>(3.0, static_cast<double>(truth.size() - 1));
  double sum = 0.0;
  for (const auto& answer : truth) {
    const int others = matches - (answer == guess ? 1 : 0);  // the other annotators' matches
    sum += std::min(1.0, others / full);
  }
  return sum / static_cast<double>(truth.size());
}

VqaScores aggregate_vqa(const std::vector<VqaQuestionResult>& results) {
  VqaScores scores;
  std::map<std::string, std::pair<double, int>> sums;
  for (const auto& result : results) {
    scores.overall += result.accuracy;
    auto& sum = sums[result.question_type];
    sum.first += result.accuracy;
    ++sum.second;
  }
  if (!results.empty()) scores.overall /= static_cast<double>(results.size());
  for (const auto& [type, sum] : sums) scores.per_type[type] = sum.first / sum.second;
  return scores;
}

}  // namespace mmtrain
