// Image-caption samples streamed out of WebDataset tar shards (read in place, never extracted),
// split over ranks and workers and shuffled through a buffer; an epoch can start at any sample.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mmtrain {

// Expands brace patterns as the Python `braceexpand` package does: "s/{000000..000099}.tar" keeps
// the zero padding, "{a,b}" lists alternatives, braces nest and combine, and "::" joins patterns
// ("a.tar::b/{0..3}.tar", as open_clip accepts). Throws ConfigError naming the pattern and what
// would be accepted (unclosed brace, descending range, more than 10 million names).
std::vector<std::string> expand_shard_pattern(const std::string& pattern);

struct WdsSample {
  std::string key;          // the entry path up to the first '.' of its file name: "dir/000123"
  std::string shard;        // the shard it came from
  std::string image_ext;    // lower case, as matched: "jpg"
  std::string image_bytes;  // encoded, as stored
  std::string caption;
  int64_t index_in_shard = 0;  // 0-based among the samples this shard yields
};

enum class WdsProblemKind {
  // A key without an image or without a caption; skipped. As in webdataset, the entries of a key
  // must be consecutive in the tar (GNU tar: --sort=name), or each run is a key of its own.
  kUnpaired,
  kDuplicateEntry,  // a key with the same extension twice; the first is kept
  kBadShard,        // cannot be opened or read; the samples read before the error are still yielded
};
const char* to_string(WdsProblemKind kind);  // "unpaired", "duplicate_entry", "bad_shard"

struct WdsProblem {
  WdsProblemKind kind = WdsProblemKind::kBadShard;
  std::string shard;
  std::string key;      // empty when the problem is not about one key
  std::string message;  // a full sentence naming the shard and key, ready to log
};

struct WebDatasetOptions {
  std::vector<std::string> shards;  // expanded, see expand_shard_pattern
  uint64_t seed = 0;
  bool shuffle_shards = true;        // false keeps the listed order (evaluation)
  int64_t shuffle_buffer = 1000;     // samples; 0 or 1: no sample shuffling
  int64_t worker = 0, workers = 1;   // loader threads of this process
  int64_t rank = 0, world_size = 1;  // processes of a distributed run
  std::vector<std::string> image_exts = {"jpg", "jpeg", "png", "webp", "bmp"};  // any case
  std::string caption_ext = "txt";
  // Called on the thread that runs start_epoch() and next(); may be empty (problems dropped).
  std::function<void(const WdsProblem&)> on_problem;
};

// Shard indices in reading order for `epoch`: a permutation fixed by (seed, epoch), the same on
// every rank and worker (the identity when shuffle_shards is false).
std::vector<int64_t> epoch_shard_order(const WebDatasetOptions& options, int64_t epoch);

// The shards that (rank, worker) reads in `epoch`, in order: positions p of the epoch order with
// p % (world_size * workers) == rank * workers + worker. Empty when there are more readers than
// shards; such a reader yields no samples, so callers should warn or use fewer workers.
std::vector<std::string> shards_for(const WebDatasetOptions& options, int64_t epoch);

// One reader's stream of paired samples. Not thread-safe: give each loader worker its own.
class WebDatasetStream {
 public:
  // Throws ConfigError for an empty shard list or a worker/rank outside its range.
  explicit WebDatasetStream(WebDatasetOptions options);
  ~WebDatasetStream();
  WebDatasetStream(WebDatasetStream&&) noexcept;
  WebDatasetStream& operator=(WebDatasetStream&&) noexcept;

  // Starts `epoch` in the state reached after emitting skip_samples samples of it: the next()
  // that follows returns exactly what an unbroken run returns as sample skip_samples + 1, and the
  // problems met on the way are reported once, as an unbroken run reports them. Skipped samples
  // are read as entry names only; the few still in the shuffle buffer then have their bytes read
  // from their shards again (DataError if a shard no longer holds them).
  void start_epoch(int64_t epoch, int64_t skip_samples = 0);

  // The next sample of the epoch; nullopt when this reader's shards are exhausted.
  std::optional<WdsSample> next();

  int64_t epoch() const;
  int64_t samples_emitted() const;                       // in this epoch, skipped ones included
  const std::vector<std::string>& epoch_shards() const;  // shards_for(options, epoch())

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mmtrain
