#include "synthetic_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "mmtrain/data/rng.h"
#include "mmtrain/errors.h"

namespace mmtrain::synthetic {
namespace {

namespace fs = std::filesystem;

constexpr int kWriterThreads = 2;

// Each split draws from its own stream, and each item from its own seed within it, so splits
// never share images and threads can render items in any order.
enum Stream : uint64_t { kTrain = 1, kZeroshotSeen, kZeroshotHeldout, kRetrieval };
constexpr uint64_t kLabelOrder = ~0ull;  // item index reserved for the split's label shuffle

// SplitMix64(x).next() is the SplitMix64 finaliser of x.
uint64_t mix(uint64_t x) { return SplitMix64(x).next(); }

uint64_t item_seed(uint64_t seed, Stream stream, uint64_t index) {
  return mix(mix(mix(seed) ^ stream) ^ index);
}

struct Split {
  const char* name;
  Stream stream;
  std::vector<int> labels;
};

struct Item {
  const Split* split;
  uint64_t index;
  std::string path;  // relative to out_dir
};

// Returns the item's caption and description.
Rendered write_item(const Item& item, const std::string& out_dir, uint64_t seed,
                       const RenderItem& render) {
  Random rng(item_seed(seed, item.split->stream, item.index));
  const Rendered rendered = render(item.split->labels[item.index], rng);
  const std::string path = (fs::path(out_dir) / item.path).string();
  // Fixed here rather than left to OpenCV's defaults, which have changed between versions.
  const bool jpeg = path.size() >= 4 && path.compare(path.size() - 4, 4, ".jpg") == 0;
  const std::vector<int> params = jpeg ? std::vector<int>{cv::IMWRITE_JPEG_QUALITY, 95}
                                       : std::vector<int>{cv::IMWRITE_PNG_COMPRESSION, 1};
  if (!cv::imwrite(path, rendered.image, params)) {
    throw DataError(path + ": cannot write image");
  }
  return {cv::Mat(), rendered.caption, rendered.description.empty() ? rendered.caption : rendered.description};
}

// Items are independent, so each thread takes every kWriterThreads-th one and the output does not
// depend on scheduling.
std::vector<Rendered> write_items(const std::vector<Item>& items, const std::string& out_dir,
                                  uint64_t seed, const RenderItem& render) {
  std::vector<Rendered> captions(items.size());
  std::vector<std::exception_ptr> errors(kWriterThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriterThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (size_t i = t; i < items.size(); i += kWriterThreads) {
          captions[i] = write_item(items[i], out_dir, seed, render);
        }
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return captions;
}

// Each label in `pool` equally often (up to one), in a seeded random order.
std::vector<int> balanced_labels(const std::vector<int>& pool, int64_t count, Random rng) {
  std::vector<int> labels(static_cast<size_t>(count));
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = pool[i % pool.size()];
  for (size_t i = labels.size(); i > 1; --i) {
    std::swap(labels[i - 1], labels[static_cast<size_t>(rng.next() % i)]);
  }
  return labels;
}

std::vector<int> per_class_labels(const std::vector<int>& pool, int per_class) {
  std::vector<int> labels;
  for (int label : pool) labels.insert(labels.end(), static_cast<size_t>(per_class), label);
  return labels;
}

// Zero-padded to a common width (at least 6) so that names sort in index order.
std::string image_name(uint64_t index, size_t count, const std::string& format) {
  const size_t width = std::max<size_t>(6, std::to_string(count ? count - 1 : 0).size());
  const std::string digits = std::to_string(index);
  return std::string(width - std::min(width, digits.size()), '0') + digits + "." + format;
}

std::vector<Item> list_items(const std::vector<Split>& splits, const std::string& format) {
  std::vector<Item> items;
  for (const Split& split : splits) {
    for (uint64_t i = 0; i < split.labels.size(); ++i) {
      const std::string name = image_name(i, split.labels.size(), format);
      items.push_back({&split, i, std::string("images/") + split.name + "/" + name});
    }
  }
  return items;
}

std::ofstream open_output(const fs::path& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw DataError(path.string() + ": cannot open for writing");
  return out;
}

void close_output(std::ofstream& out, const fs::path& path) {
  out.close();
  if (!out) throw DataError(path.string() + ": cannot write");
}

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  std::ofstream out = open_output(path);
  for (const auto& line : lines) out << line << '\n';
  close_output(out, path);
}

// `value(i)` gives the columns after the first for items[i], tab-separated.
template <typename Value>
void write_split_csv(const fs::path& path, const char* value_column, const std::vector<Item>& items,
                     const Split& split, Value value) {
  std::vector<std::string> lines{std::string("filepath\t") + value_column};
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].split == &split) lines.push_back(items[i].path + '\t' + value(i));
  }
  write_lines(path, lines);
}

std::vector<int> labels_where(const ClassList& classes, bool held_out) {
  std::vector<int> labels;
  for (size_t label = 0; label < classes.names.size(); ++label) {
    if (classes.held_out[label] == held_out) labels.push_back(static_cast<int>(label));
  }
  return labels;
}

std::vector<Split> make_splits(const WriteOptions& options, const ClassList& classes) {
  const std::vector<int> seen = labels_where(classes, false);
  const std::vector<int> held_out = labels_where(classes, true);
  std::vector<int> all(classes.names.size());
  for (size_t label = 0; label < all.size(); ++label) all[label] = static_cast<int>(label);
  const auto order = [&](Stream stream) {
    return Random(item_seed(options.seed, stream, kLabelOrder));
  };
  return {
      {"train", kTrain, balanced_labels(seen, options.n, order(kTrain))},
      {"zeroshot_seen", kZeroshotSeen, per_class_labels(seen, options.eval_per_class)},
      {"zeroshot_heldout", kZeroshotHeldout, per_class_labels(held_out, options.eval_per_class)},
      {"retrieval", kRetrieval, balanced_labels(all, options.retrieval_n, order(kRetrieval))},
  };
}

}  // namespace

void check_options(const WriteOptions& options, const std::string& what) {
  auto require = [&](bool ok, const std::string& problem) {
    if (!ok) throw ConfigError(what + ": " + problem);
  };
  require(options.n >= 0, "n must not be negative, got " + std::to_string(options.n));
  require(options.image_format == "png" || options.image_format == "jpg",
          "image format must be png or jpg, got '" + options.image_format + "'");
  require(options.image_size >= 16,
          "image_size must be at least 16, got " + std::to_string(options.image_size));
  require(options.eval_per_class >= 0,
          "eval_per_class must not be negative, got " + std::to_string(options.eval_per_class));
  require(options.retrieval_n >= 0,
          "retrieval_n must not be negative, got " + std::to_string(options.retrieval_n));
}

void write_dataset(const std::string& what, const std::string& out_dir,
                   const WriteOptions& options, const ClassList& classes,
                   const RenderItem& render) {
  const std::vector<Split> splits = make_splits(options, classes);
  const fs::path root(out_dir);
  try {
    for (const Split& split : splits) fs::create_directories(root / "images" / split.name);
  } catch (const fs::filesystem_error& e) {
    throw DataError(out_dir + ": cannot create directories: " + e.code().message());
  }
  const std::vector<Item> items = list_items(splits, options.image_format);
  const std::vector<Rendered> rendered = write_items(items, out_dir, options.seed, render);

  // The tables come after the images so that an interrupted run never lists missing files.
  const auto title = [&](size_t i) { return rendered[i].caption; };
  const auto described = [&](size_t i) { return rendered[i].caption + '\t' + rendered[i].description; };
  const auto labelled = [&](size_t i) {
    return std::to_string(items[i].split->labels[items[i].index]) + '\t' + rendered[i].description;
  };
  write_split_csv(root / "train.csv", "title\tdescription", items, splits[0], described);
  write_split_csv(root / "zeroshot_seen.csv", "label\tdescription", items, splits[1], labelled);
  write_split_csv(root / "zeroshot_heldout.csv", "label\tdescription", items, splits[2], labelled);
  write_split_csv(root / "retrieval.csv", "title", items, splits[3], title);
  write_lines(root / "classnames.txt", classes.names);
  write_lines(root / "templates.txt", classes.templates);
  if (!classes.attributes.empty()) write_lines(root / "caption_attributes.txt", classes.attributes);

  spdlog::info(
      "wrote {} data set to {}: {} training pairs, {} + {} zero-shot images "
      "(seen + held-out classes), {} retrieval pairs",
      what, out_dir, splits[0].labels.size(), splits[1].labels.size(), splits[2].labels.size(),
      splits[3].labels.size());
}

}  // namespace mmtrain::synthetic
