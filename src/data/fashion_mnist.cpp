#include "mmtrain/data/fashion_mnist.h"

#include <spdlog/spdlog.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "mmtrain/data/rng.h"
#include "mmtrain/errors.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
// IDX allows 2^32 - 1; any real image is far smaller, and this keeps every size product in range.
constexpr uint32_t kMaxSide = 65535;

// Training captions: several phrasings per class, so the text tower learns the class name rather
// than one fixed sentence. All describe what every Fashion-MNIST image is: a small, centred,
// grey product shot on black.
const std::array<const char*, 16> kCaptionTemplates{
    "a photo of a {}.",
    "a {} on a black background.",
    "a grey image of a {}.",
    "a low resolution photo of the {}.",
    "a black and white photo of a {}.",
    "a small picture of a {}.",
    "a {}.",
    "the {}.",
    "a centred photo of a {}.",
    "a blurry photo of the {}.",
    "a product photo of a {}.",
    "a greyscale photo of a {}.",
    "a pixelated image of a {}.",
    "a {} from a fashion catalogue.",
    "a close-up photo of a {}.",
    "a fashion item: a {}.",
};

// Zero-shot prompts: a subset of the captions' phrasings plus one unseen ("a photo of the {}."),
// averaged per class by the evaluator.
const std::array<const char*, 6> kPromptTemplates{
    "a photo of a {}.",
    "a photo of the {}.",
    "a grey image of a {}.",
    "a low resolution photo of the {}.",
    "a black and white photo of a {}.",
    "a {}.",
};

constexpr const char* kMarker = ".fashion_mnist_complete";
constexpr int kMarkerFormat = 1;  // bump when the output layout or captions change

class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) throw DataError(path + ": cannot open: " + std::strerror(errno));
    gzbuffer(file_, 1 << 17);
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Up to `size` bytes; fewer only at the end of the data. DataError for a damaged gzip stream.
  size_t read(uint8_t* out, size_t size) {
    size_t done = 0;
    while (done < size) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 24));
      const int got = gzread(file_, out + done, chunk);
      if (got > 0) {
        done += static_cast<size_t>(got);
        continue;
      }
      // zlib returns what it could decompress of a cut-off stream, then 0 with Z_BUF_ERROR.
      int code = Z_OK;
      const char* message = gzerror(file_, &code);
      const std::string at = std::to_string(offset_ + done);
      if (code == Z_BUF_ERROR) {
        throw DataError(path_ + ": the gzip stream ends early, after " + at +
                        " bytes of data (incomplete download?)");
      }
      if (got < 0 || code != Z_OK) {
        throw DataError(path_ + ": cannot decompress after " + at + " bytes of data: " + message);
      }
      break;
    }
    offset_ += done;
    return done;
  }

  // Exactly `size` bytes, or a DataError saying what `what` should have held. The buffer grows as
  // data arrives, so a damaged header cannot make this allocate more than the file holds.
  std::vector<uint8_t> read_exact(uint64_t size, const std::string& what) {
    const uint64_t start = offset_;
    std::vector<uint8_t> out;
    while (out.size() < size) {
      const size_t have = out.size();
      const size_t step = static_cast<size_t>(std::min<uint64_t>(size - have, uint64_t{1} << 24));
      out.resize(have + step);
      const size_t got = read(out.data() + have, step);
      if (got < step) {
        throw DataError(path_ + ": truncated: expected " + what + " (" + std::to_string(size) +
                        " bytes from byte " + std::to_string(start) + "), the data ends after " +
                        std::to_string(have + got));
      }
    }
    return out;
  }

  uint32_t read_u32(const std::string& what) {
    const std::vector<uint8_t> b = read_exact(4, what);
    return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
  }

  void expect_end(const std::string& what) {
    uint8_t extra[4096];
    const size_t got = read(extra, sizeof extra);
    if (got == 0) return;
    size_t total = got;
    while (const size_t more = read(extra, sizeof extra)) total += more;
    throw DataError(path_ + ": " + std::to_string(total) + " unexpected bytes after " + what +
                    " (not an IDX file, or a header that understates its size)");
  }

 private:
  std::string path_;
  gzFile file_;
  uint64_t offset_ = 0;  // bytes of decompressed data read so far
};

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

void check_magic(const std::string& path, uint32_t found, uint32_t expected, const char* kind) {
  if (found == expected) return;
  std::string hint;
  if (found == kImagesMagic) hint = " (an IDX image file)";
  if (found == kLabelsMagic) hint = " (an IDX label file)";
  if ((found >> 16) == 0x1f8b) hint = " (gzip inside gzip?)";
  throw DataError(path + ": expected an IDX " + kind + " file, magic number " + hex32(expected) +
                  ", found " + hex32(found) + hint);
}

// "<stem>.gz" where it exists, else "<stem>": the Debian package ships the former, some mirrors
// the latter.
std::string find_input(const fs::path& dir, const std::string& stem) {
  for (const fs::path& candidate : {dir / (stem + ".gz"), dir / stem}) {
    if (fs::is_regular_file(candidate)) return candidate.string();
  }
  throw DataError(dir.string() + ": neither " + stem + ".gz nor " + stem +
                  " found (the Fashion-MNIST IDX files, e.g. /usr/share/datasets/fashion-mnist from "
                  "the Debian package dataset-fashion-mnist)");
}

struct Split {
  IdxImages images;
  std::vector<uint8_t> labels;
};

Split read_split(const fs::path& dir, const std::string& prefix) {
  const std::string images_path = find_input(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_input(dir, prefix + "-labels-idx1-ubyte");
  Split split{read_idx_images(images_path), read_idx_labels(labels_path)};
  if (static_cast<int64_t>(split.labels.size()) != split.images.count) {
    throw DataError(images_path + " has " + std::to_string(split.images.count) + " images but " +
                    labels_path + " has " + std::to_string(split.labels.size()) +
                    " labels; expected one label per image");
  }
  const size_t classes = fashion_mnist_classes().size();
  for (size_t i = 0; i < split.labels.size(); ++i) {
    if (split.labels[i] >= classes) {
      throw DataError(labels_path + ": label " + std::to_string(split.labels[i]) + " at item " +
                      std::to_string(i) + "; Fashion-MNIST labels are 0-" +
                      std::to_string(classes - 1));
    }
  }
  return split;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// "a ankle boot" -> "an ankle boot", wherever the template put the article.
std::string fix_articles(std::string text) {
  text.insert(0, " ");
  for (char vowel : std::string("aeiou")) {
    replace_all(text, std::string(" a ") + vowel, std::string(" an ") + vowel);
  }
  return text.substr(1);
}

std::string fill(const char* pattern, const std::string& name) {
  std::string text = pattern;
  replace_all(text, "{}", name);
  return fix_articles(text);
}

// A pure function of (seed, index), so captions do not depend on max_train or thread count.
std::string caption(int label, uint64_t seed, uint64_t index) {
  const uint64_t pick = SplitMix64::stream(seed, {index}).next() % kCaptionTemplates.size();
  return fill(kCaptionTemplates[pick], fashion_mnist_classes()[label].name);
}

// Zero-padded to at least 5 digits so that names sort in index order.
std::string image_name(int64_t index, int64_t count) {
  const size_t width = std::max<size_t>(5, std::to_string(std::max<int64_t>(count - 1, 0)).size());
  const std::string digits = std::to_string(index);
  return std::string(width - std::min(width, digits.size()), '0') + digits + ".png";
}

struct Item {
  const IdxImages* images;
  int64_t index;     // in `images`
  std::string path;  // relative to out_dir
};

// Items are independent, so each thread takes every threads-th one.
void write_pngs(const std::vector<Item>& items, const fs::path& root, int threads) {
  threads = std::max(1, threads);
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        for (size_t i = t; i < items.size(); i += threads) {
          const Item& item = items[i];
          const cv::Mat image(item.images->rows, item.images->cols, CV_8UC1,
                              const_cast<uint8_t*>(item.images->image(item.index)));
          const std::string path = (root / item.path).string();
          // Fixed here rather than left to OpenCV's default, which has changed between versions.
          if (!cv::imwrite(path, image, {cv::IMWRITE_PNG_COMPRESSION, 1})) {
            throw DataError(path + ": cannot write image");
          }
        }
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& worker : workers) worker.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw DataError(path.string() + ": cannot write");
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The marker's first lines: what the output depends on besides the IDX files themselves.
std::string marker_key(const FashionMnistOptions& options) {
  return "format " + std::to_string(kMarkerFormat) + "\nmax_train " +
         std::to_string(options.max_train) + "\nseed " + std::to_string(options.seed) + "\n";
}

void remove_previous_output(const fs::path& root) {
  fs::remove(root / kMarker);  // first: an interrupted rewrite must not look complete
  for (const char* folder : {"train", "test"}) fs::remove_all(root / folder);
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  GzFile file(path);
  check_magic(path, file.read_u32("a 16-byte IDX header"), kImagesMagic, "image");
  const uint32_t count = file.read_u32("a 16-byte IDX header");
  const uint32_t rows = file.read_u32("a 16-byte IDX header");
  const uint32_t cols = file.read_u32("a 16-byte IDX header");
  const std::string shape = std::to_string(count) + " images of " + std::to_string(rows) + "x" +
                            std::to_string(cols);
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide) {
    throw DataError(path + ": header says " + shape + "; expected rows and columns from 1 to " +
                    std::to_string(kMaxSide));
  }
  IdxImages images;
  images.count = count;
  images.rows = static_cast<int>(rows);
  images.cols = static_cast<int>(cols);
  images.pixels = file.read_exact(uint64_t{count} * rows * cols, shape);  // < 2^64: sides < 2^16
  file.expect_end(shape);
  return images;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  GzFile file(path);
  check_magic(path, file.read_u32("an 8-byte IDX header"), kLabelsMagic, "label");
  const uint32_t count = file.read_u32("an 8-byte IDX header");
  const std::string what = std::to_string(count) + " labels";
  std::vector<uint8_t> labels = file.read_exact(count, what);
  file.expect_end(what);
  return labels;
}

const std::vector<FashionMnistClass>& fashion_mnist_classes() {
  static const std::vector<FashionMnistClass> classes{
      {"T-shirt/top", "t-shirt", "00_t-shirt_top"}, {"Trouser", "trouser", "01_trouser"},
      {"Pullover", "pullover", "02_pullover"},      {"Dress", "dress", "03_dress"},
      {"Coat", "coat", "04_coat"},                  {"Sandal", "sandal", "05_sandal"},
      {"Shirt", "shirt", "06_shirt"},               {"Sneaker", "sneaker", "07_sneaker"},
      {"Bag", "bag", "08_bag"},                     {"Ankle boot", "ankle boot", "09_ankle_boot"},
  };
  return classes;
}

void prepare_fashion_mnist(const std::string& idx_dir, const std::string& out_dir,
                           const FashionMnistOptions& options) {
  if (options.max_train < 0) {
    throw ConfigError("fashion-mnist: max_train must not be negative, got " +
                      std::to_string(options.max_train));
  }
  const fs::path root(out_dir);
  const std::string key = marker_key(options);
  const bool has_marker = fs::exists(root / kMarker);
  if (has_marker && !options.force && read_text(root / kMarker).rfind(key, 0) == 0) {
    spdlog::info("{}: Fashion-MNIST already prepared with these options; nothing to do", out_dir);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const Split train = read_split(idx_dir, "train");
  const Split test = read_split(idx_dir, "t10k");
  const int64_t train_count =
      options.max_train > 0 ? std::min(options.max_train, train.images.count) : train.images.count;

  const auto& classes = fashion_mnist_classes();
  try {
    // Only output this function made (it left a marker) is removed; anything else is overwritten.
    if (has_marker) remove_previous_output(root);
    fs::create_directories(root / "train");
    for (const auto& c : classes) fs::create_directories(root / "test" / c.folder);
  } catch (const fs::filesystem_error& e) {
    throw DataError(out_dir + ": cannot prepare the output folders: " + e.code().message());
  }

  std::vector<Item> items;
  std::string train_csv = "filepath\ttitle\n";
  for (int64_t i = 0; i < train_count; ++i) {
    items.push_back({&train.images, i, "train/" + image_name(i, train.images.count)});
    train_csv += items.back().path + '\t' + caption(train.labels[i], options.seed, i) + '\n';
  }
  std::string test_csv = "filepath\tlabel\n";
  for (int64_t i = 0; i < test.images.count; ++i) {
    const int label = test.labels[i];
    items.push_back({&test.images, i,
                     "test/" + classes[label].folder + "/" + image_name(i, test.images.count)});
    test_csv += items.back().path + '\t' + std::to_string(label) + '\n';
  }
  write_pngs(items, root, options.threads);

  // Tables after the images so they never list a missing file; the marker last of all.
  std::string classnames, templates;
  for (const auto& c : classes) classnames += c.name + '\n';
  for (const char* t : kPromptTemplates) templates += std::string(t) + '\n';
  write_text(root / "train.csv", train_csv);
  write_text(root / "test.csv", test_csv);
  write_text(root / "classnames.txt", classnames);
  write_text(root / "templates.txt", templates);
  write_text(root / kMarker, key + "train " + std::to_string(train_count) + "\ntest " +
                                 std::to_string(test.images.count) + "\n");

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("wrote Fashion-MNIST to {} in {:.1f} s: {} training images with captions, {} test "
               "images in {} class folders",
               out_dir, seconds, train_count, test.images.count, classes.size());
}

}  // namespace mmtrain
