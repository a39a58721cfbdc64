// `mmtrain bench train --synthetic`: one batch of random images and token ids, made once on the
// training device and handed out at every step, so that the step is timed without the loader
// (the figures open_clip's own benchmarks quote: synthetic tensors already on the GPU).
#pragma once

#include <torch/torch.h>

#include "mmtrain/data/loader.h"

namespace mmtrain {

struct SyntheticBatchOptions {
  int64_t batch_size = 0;      // this rank's rows
  int64_t image_size = 0;      // images [B,3,S,S], standard normal (already normalised)
  int64_t context_length = 0;  // tokens [B,L], uniform in [1, vocab_size)
  int64_t vocab_size = 0;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
};

class SyntheticBatches : public BatchSource {
 public:
  explicit SyntheticBatches(const SyntheticBatchOptions& options);
  int64_t batches_per_epoch() const override { return 0; }  // endless: train.steps decides
  void start_epoch(int64_t epoch, int64_t first_batch = 0) override;
  std::optional<Batch> next() override;

 private:
  Batch batch_;
};

}  // namespace mmtrain
