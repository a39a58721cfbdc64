#include "mmtrain/data/webdataset_loader.h"

#include <algorithm>

#include "mmtrain/data/rng.h"
#include "mmtrain/errors.h"
#include "pair_builder.h"

namespace mmtrain {

namespace {

BadKind problem_kind(WdsProblemKind kind) {
  return kind == WdsProblemKind::kUnpaired ? BadKind::kUnpaired : BadKind::kCorrupt;
}

}  // namespace

WebDatasetLoader::WebDatasetLoader(WebDatasetOptions stream_options,
                                   std::shared_ptr<const Tokenizer> tokenizer, LoaderOptions options,
                                   int64_t samples_per_epoch)
    : tokenizer_(std::move(tokenizer)),
      options_(std::move(options)),
      pool_(BufferPool::create(static_cast<size_t>(options_.prefetch + options_.workers + 2))),
      samples_per_epoch_(samples_per_epoch) {
  TORCH_CHECK(options_.batch_size > 0, "batch size must be positive");
  const int streams = std::max(1, options_.workers);
  auto bad_samples = options_.bad_samples;
  stream_options.on_problem = [bad_samples](const WdsProblem& problem) {
    if (bad_samples) bad_samples->record({problem_kind(problem.kind), problem.shard + ":" + problem.key, problem.message});
  };
  stream_options.workers = streams;
  for (int w = 0; w < streams; ++w) {
    stream_options.worker = w;
    streams_.push_back(std::make_unique<StreamSlot>(stream_options));
  }
}

WebDatasetLoader::~WebDatasetLoader() { stop_workers(); }

int64_t WebDatasetLoader::batches_per_epoch() const { return samples_per_epoch_ / options_.batch_size; }

void WebDatasetLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  stop_workers();
  epoch_ = epoch;
  const auto streams = static_cast<int64_t>(streams_.size());
  for (int64_t w = 0; w < streams; ++w) {
    // Batches w, w+W, ... below first_batch came from stream w, batch_size samples each.
    const int64_t earlier = first_batch > w ? (first_batch - w + streams - 1) / streams : 0;
    streams_[w]->stream.start_epoch(epoch, earlier * options_.batch_size);
    streams_[w]->next_batch = earlier * streams + w;
  }
  const int64_t known = batches_per_epoch();
  start_workers(options_.workers, first_batch, known > 0 ? known : std::numeric_limits<int64_t>::max(),
                options_.prefetch);
}

std::optional<Batch> WebDatasetLoader::next() { return next_in_order(); }

bool WebDatasetLoader::fill_row(Batch& batch, int64_t row, const WdsSample& sample, uint64_t seed) const {
  const std::string where = sample.shard + ":" + sample.key;
  auto record = [&](BadKind kind, const std::string& reason) {
    if (!options_.bad_samples) throw DataError(where + ": " + reason);
    options_.bad_samples->record({kind, where, reason});
    return false;
  };
  if (!is_valid_utf8(sample.caption)) return record(BadKind::kBadUtf8, "caption is not valid UTF-8");
  if (sample.caption.find_first_not_of(" \t\r\n") == std::string::npos) {
    return record(BadKind::kEmptyCaption, "empty or whitespace caption");
  }
  cv::Mat rgb;
  try {
    rgb = decode_rgb_image(reinterpret_cast<const unsigned char*>(sample.image_bytes.data()),
                           sample.image_bytes.size(), where + "." + sample.image_ext,
                           options_.transform.max_image_pixels);
  } catch (const BadImageError& error) {
    return record(error.kind(), error.what());
  }
  fill_batch_row(batch, row, rgb, sample.caption, -1, sample.index_in_shard, seed, tokenizer_.get(), options_);
  return true;
}

WebDatasetLoader::StreamSlot& WebDatasetLoader::wait_for_turn(int64_t index) {
  StreamSlot& slot = *streams_[index % static_cast<int64_t>(streams_.size())];
  std::unique_lock<std::mutex> lock(slot.mutex);
  slot.turn.wait(lock, [&] { return slot.next_batch == index; });
  return slot;
}

void WebDatasetLoader::finish_turn(StreamSlot& slot) {
  {
    std::lock_guard<std::mutex> lock(slot.mutex);
    slot.next_batch += static_cast<int64_t>(streams_.size());
  }
  slot.turn.notify_all();
}

std::optional<Batch> WebDatasetLoader::make_batch(int64_t index) {
  StreamSlot& slot = wait_for_turn(index);
  // The turn passes on however this batch ends, or the stream's next batch would wait forever.
  struct TurnGuard {
    WebDatasetLoader* loader;
    StreamSlot* slot;
    ~TurnGuard() { loader->finish_turn(*slot); }
  } guard{this, &slot};
  auto& stream = slot.stream;
  Batch batch = allocate_batch(index, options_.batch_size, options_.transform.image_size,
                               tokenizer_ ? options_.context_length : 0, pool_.get());
  std::vector<int64_t> bad_rows;
  int64_t first_good = -1;
  for (int64_t row = 0; row < options_.batch_size; ++row) {
    auto sample = stream.next();
    if (!sample) return std::nullopt;  // the stream ran dry: its partial batch is dropped
    const uint64_t position = static_cast<uint64_t>(stream.samples_emitted());
    const uint64_t seed = SplitMix64::stream(options_.seed, StreamTag::kStreamSampleSeed,
                                             {static_cast<uint64_t>(epoch_), static_cast<uint64_t>(index % streams_.size()),
                                              position}).next();
    if (fill_row(batch, row, *sample, seed)) {
      if (first_good < 0) first_good = row;
    } else {
      bad_rows.push_back(row);
    }
  }
  if (options_.bad_samples) options_.bad_samples->count_seen(options_.batch_size);
  if (first_good < 0) throw DataError("batch " + std::to_string(index) + ": every sample was bad (see the warnings above)");
  // A stream cannot draw a replacement without changing what later batches read, so a bad row
  // repeats a good row of its batch: the batch keeps its size and resuming stays exact.
  for (int64_t row : bad_rows) copy_batch_row(batch, first_good, row);
  return batch;
}

std::unique_ptr<BatchSource> make_training_source(const Config& config,
                                                  std::shared_ptr<const PairDataset> dataset,
                                                  std::shared_ptr<const Tokenizer> tokenizer,
                                                  std::shared_ptr<BadSampleLog> bad_samples, int rank,
                                                  int world_size, TaskData task) {
  LoaderOptions options = training_loader_options(config);
  options.task = std::move(task);
  options.bad_samples = std::move(bad_samples);
  options.rank = rank;
  options.world_size = world_size;
  const auto& data = config.data.train;
  if (data.type != "webdataset") return std::make_unique<Loader>(std::move(dataset), std::move(tokenizer), options);
  if (options.task.answers || options.task.actions) {
    throw ConfigError("data.train.type: webdataset streams carry no answers or actions; a vqa head trains on vqa or "
                      "vqa_v2 data, an action head on episodes");
  }
  // A stream has no global order to slice: each rank reads its own shards, a rank's batch at a time.
  options.batch_size /= world_size;
  WebDatasetOptions stream;
  stream.rank = rank;
  stream.world_size = world_size;
  stream.shards = expand_shard_pattern(data.path);
  stream.seed = static_cast<uint64_t>(config.run.seed);
  stream.shuffle_buffer = data.shuffle_buffer;
  stream.image_exts = split_comma_list(data.image_key == "filepath" ? "jpg,jpeg,png,webp,bmp" : data.image_key);
  stream.caption_ext = data.caption_key == "title" ? "txt" : data.caption_key;
  return std::make_unique<WebDatasetLoader>(stream, std::move(tokenizer), options, data.num_samples / world_size);
}

}  // namespace mmtrain
