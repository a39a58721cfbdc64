// The built-in data set: coloured shapes on plain backgrounds with captions that describe them,
// deterministic from a seed. A class is a colour-shape combination; some combinations are held out
// of training so that zero-shot accuracy on unseen combinations can be measured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmtrain {

struct SynthOptions {
  int64_t n = 6000;          // training pairs
  uint64_t seed = 0;
  int image_size = 64;       // square images of this side
  std::string image_format = "png";  // png (lossless) or jpg (quality 95: the loader's JPEG path)
  int eval_per_class = 20;   // zero-shot images per class, in each of seen and held-out
  int retrieval_n = 300;     // image-caption pairs for retrieval evaluation
};

struct SynthClasses {
  std::vector<std::string> colours;
  std::vector<std::string> shapes;
  std::vector<std::string> names;     // "red circle", index = label
  std::vector<bool> held_out;         // per label: never in train.csv
};

SynthClasses synthetic_classes();

// Writes train.csv, zeroshot_seen.csv, zeroshot_heldout.csv, retrieval.csv (tab-separated, header
// row; image paths relative to out_dir), classnames.txt, templates.txt and images/ under out_dir.
void write_synthetic_dataset(const std::string& out_dir, const SynthOptions& options);

}  // namespace mmtrain
