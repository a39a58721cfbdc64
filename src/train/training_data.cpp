#include "mmtrain/train/training_data.h"

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "mmtrain/data/loader.h"
#include "mmtrain/data/webdataset.h"
#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

// The rows read are judged at once and all together: a file that is mostly broken fails before
// training, with the same message as samples found bad while training.
void check_read_fraction(const PairDataset& dataset, double max_fraction) {
  BadSampleLog rows(max_fraction, /*min_seen=*/0, /*log_per_kind=*/0);  // the reader logged them
  rows.count_seen(static_cast<int64_t>(dataset.bad.size() + dataset.samples.size()));
  for (const auto& bad : dataset.bad) rows.record(bad);
  rows.check(dataset.source);
}

// Every shard missing is a wrong path, refused before training; some missing are skipped (and
// counted) as the stream reaches them.
void check_shards_exist(const std::string& pattern) {
  const auto shards = expand_shard_pattern(pattern);
  size_t missing = 0;
  for (const auto& shard : shards) missing += !std::filesystem::exists(shard);
  if (missing == shards.size()) {
    throw DataError("data.train.path: none of the " + std::to_string(shards.size()) + " shards of '" + pattern +
                    "' exists (first: " + shards.front() + ")");
  }
  if (missing > 0) spdlog::warn("data.train.path: {} of {} shards do not exist; they are skipped", missing, shards.size());
}

}  // namespace

TrainingData open_training_data(const Config& config) {
  const auto& source = config.data.train;
  if (source.path.empty()) throw ConfigError("data.train.path: required for training");
  TrainingData data;
  constexpr int64_t kJudgeAfter = 1000;  // samples drawn before the bad fraction is judged
  if (source.type == "webdataset") {
    check_shards_exist(source.path);  // a malformed pattern or a wrong folder fails now, not in a worker
    data.bad_samples = std::make_shared<BadSampleLog>(config.data.max_bad_fraction, kJudgeAfter);
    return data;
  }
  auto dataset = std::make_shared<PairDataset>(read_pair_source(source, "data.train"));
  check_read_fraction(*dataset, config.data.max_bad_fraction);
  // A small data set is judged after one pass over it.
  data.bad_samples = std::make_shared<BadSampleLog>(
      config.data.max_bad_fraction, std::min<int64_t>(kJudgeAfter, static_cast<int64_t>(dataset->samples.size())));
  for (const auto& bad : dataset->bad) data.bad_samples->record(bad);
  data.dataset = std::move(dataset);
  return data;
}

std::vector<std::string> tokenizer_training_captions(const Config& config, const TrainingData& data,
                                                     int64_t max_stream_samples) {
  if (data.dataset) return all_captions(*data.dataset);
  WebDatasetOptions options;
  options.shards = expand_shard_pattern(config.data.train.path);
  options.shuffle_shards = false;
  options.shuffle_buffer = 0;
  WebDatasetStream stream(options);
  stream.start_epoch(0);
  std::vector<std::string> captions;
  while (static_cast<int64_t>(captions.size()) < max_stream_samples) {
    auto sample = stream.next();
    if (!sample) break;
    captions.push_back(std::move(sample->caption));
  }
  return captions;
}

}  // namespace mmtrain
