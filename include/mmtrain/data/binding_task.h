// The built-in binding task: two coloured shapes side by side, captioned with their relation ("a
// red circle left of a blue square"), for comparing fusion modules on attribute and relation
// binding. Deterministic from a seed, written in the same files as the synthetic set.
//
// A class is an ordered scene (left object, right object) whose two objects differ in colour and
// in shape. Scenes come in groups of four that share one bag of words: for "red circle left of a
// blue square" also "blue square left of a red circle" (sides swapped), "blue circle left of a red
// square" (colours swapped) and "red square left of a blue circle" (both). One scene of each group
// is held out of training and the other three are trained, so a held-out scene can only be told
// from its distractors by binding colours to shapes and shapes to sides.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmtrain {

struct BindingOptions {
  int64_t n = 8000;         // training pairs
  uint64_t seed = 0;
  int image_size = 64;      // square images of this side
  std::string image_format = "png";  // png or jpg
  int eval_per_class = 20;  // zero-shot images per class, in each of seen and held-out
  // Image-caption pairs for retrieval. Retrieval counts only an image's own caption as correct,
  // so the default is one image per scene: every caption then describes exactly one image, and
  // the distractors are the other scenes of each group. Larger values repeat scenes.
  int64_t retrieval_n = 72;
};

struct BindingObject {
  int colour = 0;  // index into BindingClasses::colours
  int shape = 0;   // index into BindingClasses::shapes
};

struct BindingScene {
  BindingObject left, right;
};

struct BindingClasses {
  std::vector<std::string> colours;
  std::vector<std::string> shapes;
  std::vector<BindingScene> scenes;  // index = label
  std::vector<std::string> names;    // "red circle left of a blue square", index = label
  std::vector<bool> held_out;        // per label: never in train.csv

  std::string name_of(const BindingObject& object) const;  // "red circle"
};

BindingClasses binding_classes();

// Every phrasing a caption of scene `label` may take; each names both objects and their sides.
std::vector<std::string> binding_captions(const BindingClasses& classes, int label);

// Writes train.csv, zeroshot_seen.csv, zeroshot_heldout.csv, retrieval.csv (tab-separated, header
// row; image paths relative to out_dir), classnames.txt (all scenes), templates.txt and images/
// under out_dir.
void write_binding_dataset(const std::string& out_dir, const BindingOptions& options);

}  // namespace mmtrain
