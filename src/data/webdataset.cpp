#include "mmtrain/data/webdataset.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "mmtrain/data/rng.h"
#include "mmtrain/errors.h"

namespace mmtrain {
namespace {

constexpr size_t kMaxShardNames = 10'000'000;
// Reads start small after a skip, where only the next header is needed, and double while the
// reading is sequential.
constexpr size_t kMinRead = 1 << 12, kMaxRead = 1 << 16;
constexpr size_t kMaxMemberBytes = size_t{256} << 20;

// ---- brace expansion -------------------------------------------------------------------------

[[noreturn]] void reject_pattern(const std::string& pattern, const std::string& what) {
  throw ConfigError("shard pattern '" + pattern + "': " + what +
                    "; expected names with {first..last} ranges (e.g. {000000..000099}) or {a,b} "
                    "lists, several patterns joined by '::'");
}

bool is_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Expands one '::'-free part; positions in messages count from the start of the whole pattern.
class BraceExpander {
 public:
  explicit BraceExpander(const std::string& pattern) : pattern_(pattern) {}

  std::vector<std::string> expand(size_t begin, size_t end) const {
    const size_t open = find(begin, end, '{');
    const size_t stray = find(begin, open, '}');
    if (stray != open) {
      reject_pattern(pattern_, "unmatched '}' at position " + std::to_string(stray));
    }
    if (open == end) return {pattern_.substr(begin, end - begin)};
    const size_t close = matching_close(open, end);
    const std::vector<std::string> middles = expand_group(open + 1, close);
    const std::vector<std::string> tails = expand(close + 1, end);
    check_count(middles.size(), tails.size());
    const std::string head = pattern_.substr(begin, open - begin);
    std::vector<std::string> names;
    names.reserve(middles.size() * tails.size());
    for (const std::string& middle : middles) {
      for (const std::string& tail : tails) names.push_back(head + middle + tail);
    }
    return names;
  }

 private:
  size_t find(size_t begin, size_t end, char c) const {
    const size_t at = pattern_.find(c, begin);
    return at < end ? at : end;
  }

  size_t matching_close(size_t open, size_t end) const {
    int depth = 0;
    for (size_t i = open; i < end; ++i) {
      depth += pattern_[i] == '{';
      depth -= pattern_[i] == '}';
      if (depth == 0) return i;
    }
    reject_pattern(pattern_, "unclosed '{' at position " + std::to_string(open));
  }

  // The inside of one {...}: a comma list (whose items may hold braces) or a numeric range.
  std::vector<std::string> expand_group(size_t begin, size_t end) const {
    std::vector<size_t> commas;
    int depth = 0;
    for (size_t i = begin; i < end; ++i) {
      depth += pattern_[i] == '{';
      depth -= pattern_[i] == '}';
      if (depth == 0 && pattern_[i] == ',') commas.push_back(i);
    }
    if (commas.empty()) return expand_range(begin, end);
    commas.push_back(end);
    std::vector<std::string> names;
    size_t item = begin;
    for (size_t comma : commas) {
      std::vector<std::string> more = expand(item, comma);
      check_count(names.size() + more.size(), 1);
      names.insert(names.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
      item = comma + 1;
    }
    return names;
  }

  std::vector<std::string> expand_range(size_t begin, size_t end) const {
    const std::string body = pattern_.substr(begin, end - begin);
    const size_t dots = body.find("..");
    const std::string first = body.substr(0, dots);
    const std::string last = dots == std::string::npos ? "" : body.substr(dots + 2);
    if (!is_digits(first) || !is_digits(last)) {
      reject_pattern(pattern_, "'{" + body + "}' at position " + std::to_string(begin - 1) +
                                   " is neither a list {a,b} nor a range {first..last}");
    }
    if (first.size() > 18 || last.size() > 18) {
      reject_pattern(pattern_, "range {" + body + "} is too large");
    }
    const uint64_t lo = std::stoull(first), hi = std::stoull(last);
    if (lo > hi) reject_pattern(pattern_, "range {" + body + "} descends");
    if (hi - lo >= kMaxShardNames) {
      reject_pattern(pattern_, "range {" + body + "} has more than " +
                                   std::to_string(kMaxShardNames) + " names");
    }
    // As braceexpand: a leading zero on either end pads every number to the wider end.
    const bool padded =
        (first.size() > 1 && first[0] == '0') || (last.size() > 1 && last[0] == '0');
    const size_t width = padded ? std::max(first.size(), last.size()) : 0;
    std::vector<std::string> names;
    names.reserve(hi - lo + 1);
    for (uint64_t n = lo; n <= hi; ++n) {
      std::string digits = std::to_string(n);
      if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
      names.push_back(std::move(digits));
    }
    return names;
  }

  void check_count(size_t a, size_t b) const {
    if (a != 0 && b > kMaxShardNames / a) {
      reject_pattern(pattern_, "expands to more than " + std::to_string(kMaxShardNames) + " names");
    }
  }

  const std::string& pattern_;
};

// ---- options ---------------------------------------------------------------------------------

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string normalise_ext(const std::string& ext) {
  return lower(!ext.empty() && ext[0] == '.' ? ext.substr(1) : ext);
}

void check_reader(const char* what, int64_t index, const char* count_name, int64_t count) {
  if (count < 1) {
    throw ConfigError(std::string("webdataset: ") + count_name + " is " + std::to_string(count) +
                      "; expected at least 1");
  }
  if (index < 0 || index >= count) {
    throw ConfigError(std::string("webdataset: ") + what + " " + std::to_string(index) +
                      " is outside 0.." + std::to_string(count - 1) + " (" + count_name + " = " +
                      std::to_string(count) + ")");
  }
}

void check_options(const WebDatasetOptions& options) {
  if (options.shards.empty()) {
    throw ConfigError("webdataset: no shards given; expected at least one .tar");
  }
  check_reader("worker", options.worker, "workers", options.workers);
  check_reader("rank", options.rank, "world_size", options.world_size);
  if (options.shuffle_buffer < 0) {
    throw ConfigError("webdataset: shuffle_buffer is " + std::to_string(options.shuffle_buffer) +
                      "; expected 0 (no shuffling) or more");
  }
  if (options.image_exts.empty() || options.caption_ext.empty()) {
    throw ConfigError("webdataset: image_exts and caption_ext must not be empty");
  }
}

// Which entries form a sample, with extensions already lower-cased.
struct PairRule {
  std::vector<std::string> image_exts;
  std::string caption_ext;

  explicit PairRule(const WebDatasetOptions& options)
      : caption_ext(normalise_ext(options.caption_ext)) {
    for (const std::string& ext : options.image_exts) image_exts.push_back(normalise_ext(ext));
  }
  bool is_image(const std::string& ext) const {
    return std::find(image_exts.begin(), image_exts.end(), ext) != image_exts.end();
  }
  std::string image_list() const {
    std::string list;
    for (const std::string& ext : image_exts) list += (list.empty() ? "" : ", ") + ext;
    return list;
  }
};

using ProblemSink = std::function<void(const WdsProblem&)>;

// ---- entry names -----------------------------------------------------------------------------

struct EntryName {
  std::string key, ext;  // ext lower-cased, as webdataset's group_by_keys does
};

// webdataset's base_plus_ext: the key ends at the first '.' of the file name. Names without one
// (or starting with one) belong to no sample.
std::optional<EntryName> split_entry_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  const size_t base = slash == std::string::npos ? 0 : slash + 1;
  const size_t dot = path.find('.', base);
  if (dot == std::string::npos || dot == base) return std::nullopt;
  return EntryName{path.substr(0, dot), lower(path.substr(dot + 1))};
}

// webdataset's skip_meta: a top-level "__name__" file or folder holds metadata, not samples.
bool is_metadata(const std::string& path) {
  const size_t end = std::min(path.find('/'), path.size());
  return end >= 4 && path.compare(0, 2, "__") == 0 && path.compare(end - 2, 2, "__") == 0;
}

// ---- shard file ------------------------------------------------------------------------------

// libarchive's own file reader (3.6) seeks past the end of a truncated file without complaint, so a
// skipped entry would look complete while the same entry read in full fails. These callbacks never
// seek past the end: libarchive then reads, hits the end and reports the truncation either way,
// which keeps name-only (skipping) and full passes in agreement about which samples exist.
struct ShardFile {
  int fd = -1;
  int64_t size = 0;  // 0 when not a regular file: skips then fall back to reads
  size_t read_size = kMinRead;
  std::vector<char> block = std::vector<char>(kMaxRead);
};

la_ssize_t read_shard_file(archive* a, void* data, const void** block) {
  auto* file = static_cast<ShardFile*>(data);
  for (;;) {
    const ssize_t got = ::read(file->fd, file->block.data(), file->read_size);
    if (got >= 0) {
      *block = file->block.data();
      file->read_size = std::min(2 * file->read_size, kMaxRead);
      return got;
    }
    if (errno != EINTR) {
      archive_set_error(a, errno, "read failed: %s", std::strerror(errno));
      return -1;
    }
  }
}

la_int64_t skip_shard_file(archive*, void* data, la_int64_t request) {
  auto* file = static_cast<ShardFile*>(data);
  const off_t at = ::lseek(file->fd, 0, SEEK_CUR);
  if (at < 0) return 0;
  const int64_t step = std::min<int64_t>(request, file->size - at);
  if (step <= 0 || ::lseek(file->fd, step, SEEK_CUR) < 0) return 0;
  file->read_size = kMinRead;
  return step;
}

// ---- shard reader ----------------------------------------------------------------------------

// The entries of one key seen so far.
struct Group {
  std::string key;
  std::vector<std::string> exts;
  std::string image_ext, image_bytes, caption;
  bool has_image = false, has_caption = false;
};

// Groups consecutive entries of one tar by key and yields the groups that pair an image with a
// caption. In a light read no entry data is read at all, only names, which is what skipping needs.
class ShardReader {
 public:
  // `rule` must outlive the reader. Open failures are reported; next() then yields nothing.
  ShardReader(std::string path, const PairRule& rule, ProblemSink sink)
      : path_(std::move(path)), rule_(rule), sink_(std::move(sink)) {
    open();
  }
  ~ShardReader() {
    if (archive_) archive_read_free(archive_);
    if (file_.fd >= 0) ::close(file_.fd);
  }
  ShardReader(const ShardReader&) = delete;
  ShardReader& operator=(const ShardReader&) = delete;

  bool next(WdsSample& sample, bool light) {
    while (!finished_) {
      EntryName entry;
      if (pending_) {
        entry = std::move(*pending_);
        pending_.reset();
      } else if (!read_header(entry)) {
        break;
      }
      if (group_ && group_->key != entry.key) {
        // The entry starts the next group; its data stays unread until that group is absorbed.
        pending_ = std::move(entry);
        if (take_group(sample)) return true;
        continue;
      }
      absorb(entry, light);
    }
    return group_ && take_group(sample);
  }

  // Index the next yielded sample will have.
  int64_t samples_read() const { return samples_read_; }

 private:
  void open() {
    file_.fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (file_.fd < 0) return fail_open(std::strerror(errno));
    struct stat info {};
    if (::fstat(file_.fd, &info) == 0 && S_ISREG(info.st_mode)) file_.size = info.st_size;
    archive_ = archive_read_new();
    archive_read_support_format_tar(archive_);
    archive_read_support_filter_all(archive_);  // .tar.gz and friends stream too
    archive_read_set_callback_data(archive_, &file_);
    archive_read_set_read_callback(archive_, read_shard_file);
    archive_read_set_skip_callback(archive_, skip_shard_file);
    if (archive_read_open1(archive_) != ARCHIVE_OK) fail_open(archive_message());
  }

  void fail_open(const std::string& why) {
    finished_ = true;
    report(WdsProblemKind::kBadShard, "", path_ + ": cannot open: " + why + "; shard skipped");
  }

  // A read error ends the shard. The group being read is dropped: its remaining entries are
  // unknown, so it may not be the sample an intact shard would give.
  void fail_read(const std::string& why = "") {
    finished_ = true;
    const std::string key = group_ ? group_->key : "";
    group_.reset();
    pending_.reset();
    std::string where = " after " + std::to_string(samples_read_) + " samples";
    if (!entry_path_.empty()) where += " (at '" + entry_path_ + "')";
    report(
        WdsProblemKind::kBadShard, key,
        path_ + ": read error" + where + ": " + (why.empty() ? archive_message() : why) + "; rest of the shard skipped");
  }

  std::string archive_message() const {
    const char* message = archive_error_string(archive_);
    return message ? message : "unknown libarchive error";
  }

  // Moves to the next regular file that can belong to a sample; false at the end or on error.
  bool read_header(EntryName& entry) {
    for (;;) {
      archive_entry* header = nullptr;
      const int status = archive_read_next_header(archive_, &header);
      if (status == ARCHIVE_EOF) {
        finished_ = true;
        return false;
      }
      if (status != ARCHIVE_OK && status != ARCHIVE_WARN) {
        fail_read();
        return false;
      }
      if (archive_entry_filetype(header) != AE_IFREG || archive_entry_hardlink(header)) continue;
      // UTF-8 first: in the C locale the plain name of a non-ASCII pax entry is not available.
      const char* name = archive_entry_pathname_utf8(header);
      if (!name) name = archive_entry_pathname(header);
      if (!name) continue;
      entry_path_ = name;
      if (is_metadata(entry_path_)) continue;
      if (std::optional<EntryName> parsed = split_entry_name(entry_path_)) {
        entry = std::move(*parsed);
        return true;
      }
    }
  }

  void absorb(const EntryName& entry, bool light) {
    if (!group_) {
      group_.emplace();
      group_->key = entry.key;
    }
    Group& group = *group_;
    if (std::find(group.exts.begin(), group.exts.end(), entry.ext) != group.exts.end()) {
      report(WdsProblemKind::kDuplicateEntry, group.key,
             path_ + ": sample '" + group.key + "' has a second '" + entry.ext +
                 "' entry; the first is kept");
      return skip_data();
    }
    group.exts.push_back(entry.ext);
    if (!group.has_image && rule_.is_image(entry.ext)) {
      group.has_image = true;
      group.image_ext = entry.ext;
      return light ? skip_data() : read_data(group.image_bytes);
    }
    if (!group.has_caption && entry.ext == rule_.caption_ext) {
      group.has_caption = true;
      return light ? skip_data() : read_data(group.caption);
    }
    skip_data();
  }

  void read_data(std::string& bytes) {
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int status;
    while ((status = archive_read_data_block(archive_, &block, &size, &offset)) == ARCHIVE_OK) {
      const size_t at = static_cast<size_t>(offset);
      // A gzip'ed shard can unpack a member to any size, and a sparse one can place its data at
      // any offset: both stop at a stated bound rather than allocating what they claim.
      if (at > kMaxMemberBytes || size > kMaxMemberBytes - at) {
        bytes.clear();
        return fail_read("a member larger than 256 MB, more than any image or caption");
      }
      if (at > bytes.size()) bytes.resize(at);  // a hole in a sparse entry reads as zeros
      bytes.append(static_cast<const char*>(block), size);
    }
    if (status != ARCHIVE_EOF) fail_read();
  }

  void skip_data() {
    if (archive_read_data_skip(archive_) != ARCHIVE_OK) fail_read();
  }

  // Ends the current group: true (and `sample` filled) when it pairs an image with a caption.
  bool take_group(WdsSample& sample) {
    Group group = std::move(*group_);
    group_.reset();
    if (group.has_image && group.has_caption) {
      sample.key = std::move(group.key);
      sample.shard = path_;
      sample.image_ext = std::move(group.image_ext);
      sample.image_bytes = std::move(group.image_bytes);
      sample.caption = std::move(group.caption);
      sample.index_in_shard = samples_read_++;
      return true;
    }
    report(WdsProblemKind::kUnpaired, group.key,
           path_ + ": sample '" + group.key + "' " + missing_part(group) + "; skipped");
    return false;
  }

  std::string missing_part(const Group& group) const {
    const std::string image = "image (" + rule_.image_list() + ")";
    const std::string caption = "caption (" + rule_.caption_ext + ")";
    std::string found;
    for (const std::string& ext : group.exts) found += (found.empty() ? "" : ", ") + ext;
    if (group.has_image) return "has " + group.image_ext + " but no " + caption;
    if (group.has_caption) return "has " + rule_.caption_ext + " but no " + image;
    return "has " + found + " but no " + image + " and no " + caption;
  }

  void report(WdsProblemKind kind, const std::string& key, std::string message) const {
    if (sink_) sink_(WdsProblem{kind, path_, key, std::move(message)});
  }

  std::string path_;
  const PairRule& rule_;
  ProblemSink sink_;
  ShardFile file_;
  archive* archive_ = nullptr;
  std::string entry_path_;  // the last header read, for messages
  std::optional<EntryName> pending_;
  std::optional<Group> group_;
  bool finished_ = false;
  int64_t samples_read_ = 0;
};

}  // namespace

// ---- public functions ------------------------------------------------------------------------

std::vector<std::string> expand_shard_pattern(const std::string& pattern) {
  if (pattern.empty()) reject_pattern(pattern, "empty");
  const BraceExpander expander(pattern);
  std::vector<std::string> names;
  size_t begin = 0;
  for (;;) {
    const size_t separator = pattern.find("::", begin);
    const size_t end = separator == std::string::npos ? pattern.size() : separator;
    if (end == begin) reject_pattern(pattern, "empty pattern at position " + std::to_string(begin));
    std::vector<std::string> part = expander.expand(begin, end);
    if (names.size() + part.size() > kMaxShardNames) {
      reject_pattern(pattern, "expands to more than " + std::to_string(kMaxShardNames) + " names");
    }
    names.insert(names.end(), std::make_move_iterator(part.begin()),
                 std::make_move_iterator(part.end()));
    if (separator == std::string::npos) return names;
    begin = separator + 2;
  }
}

const char* to_string(WdsProblemKind kind) {
  switch (kind) {
    case WdsProblemKind::kUnpaired:
      return "unpaired";
    case WdsProblemKind::kDuplicateEntry:
      return "duplicate_entry";
    case WdsProblemKind::kBadShard:
      return "bad_shard";
  }
  return "unknown";
}

std::vector<int64_t> epoch_shard_order(const WebDatasetOptions& options, int64_t epoch) {
  std::vector<int64_t> order(options.shards.size());
  std::iota(order.begin(), order.end(), 0);
  if (!options.shuffle_shards) return order;
  // Rank and worker stay out of the stream ids: every reader must agree on one order.
  SplitMix64 rng =
      SplitMix64::stream(options.seed, StreamTag::kShardOrder, {static_cast<uint64_t>(epoch)});
  for (size_t i = order.size(); i > 1; --i) {
    std::swap(order[i - 1], order[rng.below(static_cast<int64_t>(i))]);
  }
  return order;
}

std::vector<std::string> shards_for(const WebDatasetOptions& options, int64_t epoch) {
  check_options(options);
  const std::vector<int64_t> order = epoch_shard_order(options, epoch);
  const int64_t readers = options.world_size * options.workers;
  const int64_t reader = options.rank * options.workers + options.worker;
  std::vector<std::string> mine;
  for (int64_t p = reader; p < static_cast<int64_t>(order.size()); p += readers) {
    mine.push_back(options.shards[order[p]]);
  }
  return mine;
}

// ---- stream ----------------------------------------------------------------------------------

struct WebDatasetStream::Impl {
  // A sample in the shuffle buffer. While skipping it holds names only (light) and gets its bytes
  // back from the shard, by index, once skipping ends.
  struct Buffered {
    WdsSample sample;
    size_t shard_pos = 0;  // into shards
    bool light = false;
  };

  explicit Impl(WebDatasetOptions options_in) : options(std::move(options_in)), rule(options) {}

  WebDatasetOptions options;
  PairRule rule;
  bool started = false;
  int64_t epoch = 0;
  std::vector<std::string> shards;
  size_t next_shard = 0;
  std::unique_ptr<ShardReader> reader;
  size_t reader_pos = 0;
  std::vector<Buffered> buffer;
  SplitMix64 rng{0};
  int64_t emitted = 0;

  void start(int64_t epoch_in, int64_t skip) {
    if (skip < 0) {
      throw std::invalid_argument("WebDatasetStream::start_epoch: skip_samples " +
                                  std::to_string(skip) + " < 0");
    }
    started = true;
    epoch = epoch_in;
    shards = shards_for(options, epoch);
    next_shard = 0;
    reader.reset();
    buffer.clear();
    rng = SplitMix64::stream(options.seed, StreamTag::kShardSampleOrder,
                             {static_cast<uint64_t>(epoch), static_cast<uint64_t>(options.rank),
                              static_cast<uint64_t>(options.worker)});
    emitted = 0;
    for (int64_t i = 0; i < skip; ++i) {
      if (!step(/*light=*/true)) break;
    }
    refill_light_samples();
  }

  bool pull(Buffered& out, bool light) {
    for (;;) {
      if (!reader) {
        if (next_shard == shards.size()) return false;
        reader_pos = next_shard++;
        reader = std::make_unique<ShardReader>(shards[reader_pos], rule, options.on_problem);
      }
      if (reader->next(out.sample, light)) {
        out.shard_pos = reader_pos;
        out.light = light;
        return true;
      }
      reader.reset();
    }
  }

  // Emits one sample: the buffer fills to its size, a uniformly drawn slot is emitted and refilled
  // with the next incoming sample. Light and full steps draw identically, which is what lets a
  // skipped prefix leave exactly the state of an unbroken run.
  std::optional<Buffered> step(bool light) {
    if (options.shuffle_buffer <= 1) return pass_through(light);
    const size_t capacity = static_cast<size_t>(options.shuffle_buffer);
    while (buffer.size() < capacity) {
      Buffered incoming;
      if (!pull(incoming, light)) break;
      buffer.push_back(std::move(incoming));
    }
    if (buffer.empty()) return std::nullopt;
    const size_t slot = static_cast<size_t>(rng.below(static_cast<int64_t>(buffer.size())));
    Buffered out = std::move(buffer[slot]);
    Buffered incoming;
    if (pull(incoming, light)) {
      buffer[slot] = std::move(incoming);
    } else {
      if (slot + 1 != buffer.size()) buffer[slot] = std::move(buffer.back());
      buffer.pop_back();
    }
    ++emitted;
    return out;
  }

  // Without shuffling nothing is read ahead, so problems are reported when the stream reaches them.
  std::optional<Buffered> pass_through(bool light) {
    Buffered out;
    if (!pull(out, light)) return std::nullopt;
    ++emitted;
    return out;
  }

  // Reads the bytes of the light samples left in the buffer after skipping, one pass per shard.
  // Problems were reported by the skipping pass already, so this pass reports none.
  void refill_light_samples() {
    std::map<size_t, std::map<int64_t, Buffered*>> wanted;  // shard_pos -> index_in_shard -> slot
    for (Buffered& b : buffer) {
      if (b.light) wanted[b.shard_pos][b.sample.index_in_shard] = &b;
    }
    for (auto& [shard_pos, slots] : wanted) {
      ShardReader again(shards[shard_pos], rule, nullptr);
      const int64_t last = slots.rbegin()->first;
      WdsSample sample;
      while (again.samples_read() <= last) {
        const auto slot = slots.find(again.samples_read());
        if (!again.next(sample, /*light=*/slot == slots.end())) break;
        if (slot == slots.end() || sample.key != slot->second->sample.key) continue;
        slot->second->sample = std::move(sample);
        slot->second->light = false;
      }
      for (const auto& [index, b] : slots) {
        if (b->light) {
          throw DataError(shards[shard_pos] + ": sample '" + b->sample.key + "' (index " +
                          std::to_string(index) +
                          ") could not be read again while resuming; did the shard change?");
        }
      }
    }
  }
};

WebDatasetStream::WebDatasetStream(WebDatasetOptions options) {
  check_options(options);
  impl_ = std::make_unique<Impl>(std::move(options));
}
WebDatasetStream::~WebDatasetStream() = default;
WebDatasetStream::WebDatasetStream(WebDatasetStream&&) noexcept = default;
WebDatasetStream& WebDatasetStream::operator=(WebDatasetStream&&) noexcept = default;

void WebDatasetStream::start_epoch(int64_t epoch, int64_t skip_samples) {
  impl_->start(epoch, skip_samples);
}

std::optional<WdsSample> WebDatasetStream::next() {
  if (!impl_->started) {
    throw std::logic_error("WebDatasetStream::next() called before start_epoch()");
  }
  std::optional<Impl::Buffered> buffered = impl_->step(/*light=*/false);
  if (!buffered) return std::nullopt;
  return std::move(buffered->sample);
}

int64_t WebDatasetStream::epoch() const { return impl_->epoch; }
int64_t WebDatasetStream::samples_emitted() const { return impl_->emitted; }
const std::vector<std::string>& WebDatasetStream::epoch_shards() const { return impl_->shards; }

}  // namespace mmtrain
