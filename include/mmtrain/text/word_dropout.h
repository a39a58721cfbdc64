// Word dropout (data.augment.word_dropout): each word of a training text left out with a given
// probability, so a model cannot lean on every word being there. On the built-in VQA scenes it was
// meant to make "what colour is ..." carry the answer's type whatever object the question names;
// measured at 0.15 it made the held-out combinations worse (README), so configs leave it off.
#pragma once

#include <string>

#include "mmtrain/data/rng.h"

namespace mmtrain {

// `text` with each space-separated word left out with `probability` (one rng draw per word, in
// order); the words kept are joined by single spaces. When every word would go, `text` comes back
// whole: an empty text is not a view of the sample. probability 0 returns `text` unchanged and
// draws nothing.
std::string drop_words(const std::string& text, double probability, SplitMix64& rng);

}  // namespace mmtrain
