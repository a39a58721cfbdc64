// Writing a built-in data set: seeded splits of labelled images, rendered in parallel and listed
// in the tab-separated tables every built-in set shares (the `data synth` files of docs/reference.md).
// Internal to src/data; the caller supplies the classes and how one item is drawn.
#pragma once

#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "synthetic_draw.h"

namespace mmtrain::synthetic {

// Sizes and seed, as SynthOptions and BindingOptions spell them.
struct WriteOptions {
  int64_t n = 0;  // training pairs
  uint64_t seed = 0;
  int image_size = 0;
  int eval_per_class = 0;  // zero-shot images per class, in each of seen and held-out
  int64_t retrieval_n = 0;
  std::string image_format = "png";  // png or jpg: the files' extension and encoding
};

template <class Options>
WriteOptions write_options(const Options& options) {
  return {options.n, options.seed, options.image_size, options.eval_per_class,
          options.retrieval_n, options.image_format};
}

// Throws ConfigError("<what>: ...") naming the first value out of range.
void check_options(const WriteOptions& options, const std::string& what);

struct ClassList {
  std::vector<std::string> names;  // index = label
  std::vector<bool> held_out;      // per label: never in train.csv
  std::vector<std::string> templates;
  // Lines of caption_attributes.txt ("colour: red|green"), the groups a description names; none
  // written when empty.
  std::vector<std::string> attributes;
};

struct Rendered {
  cv::Mat image;  // 8-bit BGR
  std::string caption;
  // Every attribute in one fixed phrasing: the captioning task's target. Empty: the caption.
  std::string description;
};

// Draws one item of class `label` from `rng`, a stream of its own: items may be drawn in any
// order and on any thread.
using RenderItem = std::function<Rendered(int label, Random& rng)>;

// Writes images/<split>/NNNNNN.png, train.csv (filepath, title, description), zeroshot_seen.csv and
// zeroshot_heldout.csv (filepath, label, description), retrieval.csv, classnames.txt, templates.txt
// and caption_attributes.txt under out_dir, and logs a summary naming `what`
// ("synthetic", ...). Training draws only seen classes, each equally often; retrieval draws all
// classes, each equally often (up to one).
void write_dataset(const std::string& what, const std::string& out_dir,
                   const WriteOptions& options, const ClassList& classes,
                   const RenderItem& render);

}  // namespace mmtrain::synthetic
