// The range of each action dimension in the training episodes. The continuous action head predicts
// actions scaled to [-1,1] over it; the discrete head predicts one of `bins` equal bins over it per
// dimension, as OpenVLA bins each dimension over the data's range. Checkpoints keep it, so that a
// policy's outputs turn back into actions without the training data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mmtrain/data/dataset.h"

namespace mmtrain {

class ActionSpace {
 public:
  ActionSpace(std::vector<float> low, std::vector<float> high);
  // From every sample's action (data type episodes); DataError naming the source when it has none.
  static ActionSpace build(const PairDataset& dataset);

  int64_t dims() const { return static_cast<int64_t>(low_.size()); }
  const std::vector<float>& low() const { return low_; }
  const std::vector<float>& high() const { return high_; }
  // value in the data's range -> [-1,1] (clipped); a dimension that never varies maps to 0.
  float scale(int64_t dim, float value) const;
  float unscale(int64_t dim, float scaled) const;
  // The bin of a scaled value in [-1,1] among `bins`, and the scaled centre of a bin.
  static int64_t bin_of(float scaled, int64_t bins);
  static float bin_centre(int64_t bin, int64_t bins);

  // Row `id`'s next `chunk` actions of its episode, scaled, into out [chunk * dims()]: past the
  // episode's last step its last action repeats (a finished policy keeps doing what ended it).
  void fill_chunk(const PairDataset& dataset, int64_t id, int chunk, float* out) const;

  // "low high" per line, and back (checkpoint meta).
  std::string to_text() const;
  static ActionSpace from_text(const std::string& text);

 private:
  std::vector<float> low_, high_;
};

}  // namespace mmtrain
