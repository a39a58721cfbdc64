#include "mmtrain/data/loader.h"

#include <numeric>

#include "mmtrain/data/rng.h"

namespace mmtrain {

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto rng = SplitMix64::stream(seed, {0x0d, static_cast<uint64_t>(epoch)});
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  return order;
}

LoaderOptions training_loader_options(const Config& config) {
  LoaderOptions options;
  options.batch_size = config.train.batch_size;
  options.workers = config.data.workers;
  options.seed = static_cast<uint64_t>(config.run.seed);
  options.context_length = config.model.text.context_length;
  options.transform = transform_options(config.data, config.model.vision.image_size, true);
  return options;
}

std::vector<std::string> all_captions(const PairDataset& dataset) {
  std::vector<std::string> captions;
  for (const auto& sample : dataset.samples) {
    captions.insert(captions.end(), sample.captions.begin(), sample.captions.end());
  }
  return captions;
}

Loader::Loader(std::shared_ptr<const PairDataset> dataset, std::shared_ptr<const Tokenizer> tokenizer,
               LoaderOptions options)
    : dataset_(std::move(dataset)), tokenizer_(std::move(tokenizer)), options_(std::move(options)) {
  TORCH_CHECK(options_.batch_size > 0, "batch size must be positive");
}

Loader::~Loader() { stop_workers(); }

int64_t Loader::batches_per_epoch() const {
  const auto n = static_cast<int64_t>(dataset_->samples.size());
  return options_.drop_last ? n / options_.batch_size
                            : (n + options_.batch_size - 1) / options_.batch_size;
}

void Loader::start_epoch(int64_t epoch, int64_t first_batch) {
  stop_workers();
  epoch_ = epoch;
  const auto n = static_cast<int64_t>(dataset_->samples.size());
  if (options_.shuffle) {
    order_ = epoch_order(n, options_.seed, epoch);
  } else {
    order_.resize(n);
    std::iota(order_.begin(), order_.end(), 0);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  next_to_make_ = next_to_return_ = first_batch;
  end_ = batches_per_epoch();
  stopping_ = false;
  ready_.clear();
  error_ = nullptr;
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

void Loader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
}

void Loader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] {
      return stopping_ || next_to_make_ >= end_ || next_to_make_ <= next_to_return_ + options_.prefetch;
    });
    if (stopping_ || next_to_make_ >= end_) return;
    const int64_t index = next_to_make_++;
    lock.unlock();
    std::optional<Batch> batch;
    std::exception_ptr error;
    try {
      batch = make_batch(index);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (batch) ready_.emplace(index, std::move(*batch));
    changed_.notify_all();
  }
}

std::optional<Batch> Loader::next() {
  if (options_.workers == 0) {
    if (next_to_return_ >= end_) return std::nullopt;
    return make_batch(next_to_return_++);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (next_to_return_ >= end_) return std::nullopt;
  changed_.wait(lock, [this] { return error_ || ready_.count(next_to_return_) > 0; });
  if (error_) std::rethrow_exception(error_);
  auto node = ready_.extract(next_to_return_++);
  changed_.notify_all();
  return std::move(node.mapped());
}

Batch Loader::make_batch(int64_t index) const {
  const int64_t n = static_cast<int64_t>(order_.size());
  const int64_t begin = index * options_.batch_size;
  const int64_t count = std::min(options_.batch_size, n - begin);
  const int size = options_.transform.image_size;
  const int length = tokenizer_ ? options_.context_length : 0;

  Batch batch;
  batch.index = index;
  batch.images = torch::empty({count, 3, size, size});
  batch.tokens = torch::empty({count, length}, torch::kLong);
  batch.labels = torch::empty({count}, torch::kLong);
  batch.ids = torch::empty({count}, torch::kLong);
  float* images = batch.images.data_ptr<float>();
  int64_t* tokens = batch.tokens.data_ptr<int64_t>();
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  int64_t* ids = batch.ids.data_ptr<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t id = order_[begin + i];
    const PairSample& sample = dataset_->samples[id];
    // Every random choice for a sample derives from (seed, epoch, sample): resumable and
    // independent of the worker count.
    auto rng = SplitMix64::stream(options_.seed, {0xa0, static_cast<uint64_t>(epoch_),
                                                  static_cast<uint64_t>(id)});
    const cv::Mat rgb = read_rgb_image(sample.image_path, options_.transform.max_image_pixels);
    transform_image(rgb, options_.transform, rng.next(), images + i * 3 * size * size);
    if (tokenizer_) {
      const auto& captions = sample.captions;
      const std::string& caption = captions.empty() ? std::string() : captions[rng.below(captions.size())];
      tokenize_into(*tokenizer_, caption, length, tokens + i * length);
    }
    labels[i] = sample.label;
    ids[i] = id;
  }
  return batch;
}

}  // namespace mmtrain
