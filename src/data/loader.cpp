#include "mmtrain/data/loader.h"

#include <limits>
#include <numeric>

#include "mmtrain/data/rng.h"
#include "mmtrain/errors.h"
#include "mmtrain/text/word_dropout.h"

namespace mmtrain {

std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  auto rng = SplitMix64::stream(seed, StreamTag::kEpochOrder, {static_cast<uint64_t>(epoch)});
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
  options.word_dropout = config.data.augment.word_dropout;
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
    : dataset_(std::move(dataset)),
      tokenizer_(std::move(tokenizer)),
      options_(std::move(options)),
      pool_(BufferPool::create(static_cast<size_t>(options_.prefetch + options_.workers + 2))) {
  TORCH_CHECK(options_.batch_size > 0, "batch size must be positive");
  TORCH_CHECK(options_.world_size >= 1 && options_.rank >= 0 && options_.rank < options_.world_size &&
                  options_.batch_size % options_.world_size == 0,
              "rank ", options_.rank, " of ", options_.world_size, " cannot split batch size ", options_.batch_size);
  if (options_.task.actions) {
    TORCH_CHECK(options_.task.action_chunk >= 1, "action chunk must be at least 1, not ", options_.task.action_chunk);
    if (dataset_->samples.empty() || dataset_->samples.front().action.empty()) {
      throw DataError(dataset_->source + ": no robot episode steps (an action head trains on data type episodes)");
    }
    state_dims_ = static_cast<int64_t>(dataset_->samples.front().state.size());
  }
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
  start_workers(options_.workers, first_batch, batches_per_epoch(), options_.prefetch);
}

std::optional<Batch> Loader::next() { return next_in_order(); }

Batch allocate_batch(int64_t index, int64_t count, int image_size, int context_length, BufferPool* pool) {
  Batch batch;
  batch.index = index;
  batch.images = pool ? pool->empty({count, 3, image_size, image_size})
                      : torch::empty({count, 3, image_size, image_size});
  batch.tokens = torch::empty({count, context_length}, torch::kLong);
  batch.labels = torch::empty({count}, torch::kLong);
  batch.ids = torch::empty({count}, torch::kLong);
  return batch;
}

void fill_batch_row(Batch& batch, int64_t row, const cv::Mat& rgb, const std::string& caption,
                    int64_t label, int64_t id, uint64_t transform_seed, const Tokenizer* tokenizer,
                    const LoaderOptions& options) {
  const int size = options.transform.image_size;
  transform_image(rgb, options.transform, transform_seed, batch.images.data_ptr<float>() + row * 3 * size * size);
  if (tokenizer) {
    const int length = options.context_length;
    // Its own stream from the sample's seed: the draws every run without dropout makes stay as they were.
    auto words = SplitMix64::stream(transform_seed, StreamTag::kWordDropout, {});
    tokenize_into(*tokenizer, drop_words(caption, options.word_dropout, words), length,
                  batch.tokens.data_ptr<int64_t>() + row * length);
  }
  batch.labels.data_ptr<int64_t>()[row] = label;
  batch.ids.data_ptr<int64_t>()[row] = id;
}

void copy_batch_row(Batch& batch, int64_t from, int64_t to) {
  for (auto* t : {&batch.images, &batch.tokens, &batch.labels, &batch.ids}) {
    if (t->defined()) (*t)[to].copy_((*t)[from]);
  }
  batch.task.copy_row(from, to);
}

bool Loader::fill_row(Batch& batch, int64_t row, int64_t id) const {
  const PairSample& sample = dataset_->samples[id];
  // Every random choice for a sample derives from (seed, epoch, sample): resumable and
  // independent of the worker count.
  auto rng = SplitMix64::stream(options_.seed, StreamTag::kSampleDraw, {static_cast<uint64_t>(epoch_), static_cast<uint64_t>(id)});
  cv::Mat rgb;
  try {
    rgb = read_rgb_image(sample.image_path, options_.transform.max_image_pixels);
  } catch (const BadImageError& error) {
    if (!options_.bad_samples) throw;
    options_.bad_samples->record({error.kind(), dataset_->source + ":" + std::to_string(sample.line), error.what()});
    return false;
  }
  const uint64_t transform_seed = rng.next();
  const auto& captions = sample.captions;
  const std::string caption = captions.empty() ? std::string() : captions[rng.below(captions.size())];
  fill_batch_row(batch, row, rgb, caption, sample.label, id, transform_seed, tokenizer_.get(), options_);
  if (options_.task.answers) {
    options_.task.answers->fill_targets(sample.answers, batch.task.answers.data_ptr<float>() + row * options_.task.answers->size());
  }
  if (options_.task.actions) fill_action_row(batch, row, id);
  if (batch.task.target.defined()) {
    // A row whose data does not say where the object the text names is stays NaN: the pointing
    // losses leave it out.
    const auto& target = dataset_->samples[static_cast<size_t>(id)].target;
    float* where = batch.task.target.data_ptr<float>() + row * 2;
    where[0] = target.size() == 2 ? target[0] : std::numeric_limits<float>::quiet_NaN();
    where[1] = target.size() == 2 ? target[1] : std::numeric_limits<float>::quiet_NaN();
  }
  return true;
}

void Loader::fill_action_row(Batch& batch, int64_t row, int64_t id) const {
  const auto& state = dataset_->samples[static_cast<size_t>(id)].state;
  std::copy(state.begin(), state.end(), batch.task.state.data_ptr<float>() + row * state_dims_);
  const int64_t per_row = options_.task.action_chunk * options_.task.actions->dims();
  options_.task.actions->fill_chunk(*dataset_, id, options_.task.action_chunk, batch.task.actions.data_ptr<float>() + row * per_row);
}

std::optional<Batch> Loader::make_batch(int64_t index) {
  const int64_t n = static_cast<int64_t>(order_.size());
  // Rank r's rows of the global batch: the same samples, augmentation and replacements as rows
  // r*b..(r+1)*b of the one-process batch.
  const int64_t per_rank = options_.batch_size / options_.world_size;
  const int64_t begin = index * options_.batch_size + options_.rank * per_rank;
  const int64_t count = std::max<int64_t>(0, std::min(per_rank, n - begin));
  Batch batch = allocate_batch(index, count, options_.transform.image_size,
                               tokenizer_ ? options_.context_length : 0, pool_.get());
  if (options_.task.answers) batch.task.answers = torch::empty({count, options_.task.answers->size()});
  if (options_.task.actions) {
    batch.task.state = torch::empty({count, state_dims_});
    batch.task.actions = torch::empty({count, options_.task.action_chunk, options_.task.actions->dims()});
  }
  if (options_.task.answers || options_.task.actions) batch.task.target = torch::empty({count, 2});
  int64_t drawn = 0;
  for (int64_t i = 0; i < count; ++i) {
    int64_t id = order_[begin + i];
    // A bad sample is replaced by one drawn from (seed, epoch, position, attempt): the same
    // replacement whatever the worker count or resume point.
    for (uint64_t attempt = 0; ++drawn, !fill_row(batch, i, id); ++attempt) {
      if (attempt == 64) {
        throw DataError(dataset_->source + ": 64 bad samples in a row while filling batch " +
                        std::to_string(index) + "; are the image paths right? (see the warnings above)");
      }
      id = SplitMix64::stream(options_.seed, StreamTag::kBadSampleReplacement,
                              {static_cast<uint64_t>(epoch_), static_cast<uint64_t>(begin + i), attempt}).below(n);
    }
  }
  if (options_.bad_samples) options_.bad_samples->count_seen(drawn);
  return batch;
}

}  // namespace mmtrain
