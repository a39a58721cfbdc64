// A run's training data: the map-style data set (csv, jsonl, coco) or nothing for a stream of
// shards, the captions a new tokenizer learns from, and the log of skipped samples.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mmtrain/config/config.h"
#include "mmtrain/data/bad_samples.h"
#include "mmtrain/data/dataset.h"

namespace mmtrain {

struct TrainingData {
  std::shared_ptr<const PairDataset> dataset;  // null for webdataset
  std::shared_ptr<BadSampleLog> bad_samples;
};

// Reads data.train (structural errors fail here, naming the file) and records the rows skipped
// while reading; throws DataError when they pass data.max_bad_fraction.
TrainingData open_training_data(const Config& config);

// Captions to train a tokenizer on: every caption of a data set, or those of the first
// `max_stream_samples` samples of the shards.
std::vector<std::string> tokenizer_training_captions(const Config& config, const TrainingData& data,
                                                     int64_t max_stream_samples = 100000);

}  // namespace mmtrain
