#include "mmtrain/train/synthetic_batches.h"

namespace mmtrain {

SyntheticBatches::SyntheticBatches(const SyntheticBatchOptions& options) {
  TORCH_CHECK(options.batch_size > 0 && options.image_size > 0 && options.context_length > 0 && options.vocab_size > 1,
              "SyntheticBatches: batch, image size, context length and vocabulary must be positive");
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const int64_t b = options.batch_size, s = options.image_size;
  batch_.images = at::randn({b, 3, s, s}, generator, torch::kFloat).to(options.device);
  batch_.tokens = at::randint(1, options.vocab_size, {b, options.context_length}, generator, torch::kLong).to(options.device);
  batch_.labels = torch::full({b}, -1, torch::kLong);
  batch_.ids = torch::arange(b, torch::kLong);
}

void SyntheticBatches::start_epoch(int64_t, int64_t first_batch) { batch_.index = first_batch; }

std::optional<Batch> SyntheticBatches::next() {
  Batch batch = batch_;
  ++batch_.index;
  return batch;
}

}  // namespace mmtrain
