// Map-style data sets of image-caption pairs (training, retrieval) or labelled images (zero-shot),
// read from CSV/TSV files the way open_clip reads them: image paths relative to the file's folder.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"

namespace mmtrain {

struct PairSample {
  std::string image_path;             // resolved
  std::vector<std::string> captions;  // one is drawn per sample and epoch; empty for labelled sets
  int64_t label = -1;                 // zero-shot class index, -1 when not labelled
  int64_t line = 0;                   // where it came from, for messages
};

struct PairDataset {
  std::string source;  // the file read
  std::vector<PairSample> samples;
  int64_t bad_rows = 0;  // rows skipped while reading
};

// caption_key may name several columns ("title,alt"): each sample keeps all of them.
PairDataset read_pair_csv(const std::string& path, const std::string& image_key,
                          const std::string& caption_key, char separator);
PairDataset read_labelled_csv(const std::string& path, const std::string& image_key,
                              const std::string& label_key, char separator);
// Images only (embedding): every row must be usable, since row i of the output is row i here.
PairDataset read_image_csv(const std::string& path, const std::string& image_key, char separator);

// Reads a text file's non-empty lines (class names, templates), trailing whitespace trimmed.
std::vector<std::string> read_lines(const std::string& path);

}  // namespace mmtrain
