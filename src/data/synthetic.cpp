#include "mmtrain/data/synthetic.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <thread>
#include <utility>

#include "mmtrain/errors.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;

struct Colour {
  const char* name;
  cv::Vec3b bgr;
};

// Saturated and far apart in every channel pair, so that jitter and grey backgrounds never make
// two colours look alike.
const std::array<Colour, 6> kColours{{
    {"red", {40, 40, 215}},
    {"green", {50, 170, 40}},
    {"blue", {215, 90, 30}},
    {"yellow", {40, 215, 225}},
    {"purple", {170, 40, 140}},
    {"orange", {20, 130, 245}},
}};

enum Shape { kCircle, kSquare, kTriangle, kStar, kShapeCount };
const std::array<const char*, kShapeCount> kShapeNames{"circle", "square", "triangle", "star"};

// One combination per shape and at most one per colour: every colour and every shape is still
// seen in training, only the combination is new.
const std::array<std::pair<const char*, Shape>, 4> kHeldOut{{
    {"purple", kTriangle},
    {"orange", kCircle},
    {"green", kStar},
    {"yellow", kSquare},
}};

enum Position { kLeft, kRight, kTop, kBottom, kCenter, kPositionCount };
const std::array<const char*, kPositionCount> kPositionPhrases{
    "on the left", "on the right", "at the top", "at the bottom", "in the center"};

const std::array<const char*, 8> kCaptionTemplates{
    "a {size} {colour} {shape} {position}",
    "a photo of a {size} {colour} {shape}.",
    "a {colour} {shape} {position}",
    "{colour} {shape}, {size}, {position}",
    "there is a {colour} {shape} {position}",
    "a {size} {colour} {shape} {position} of the picture",
    "a {colour} {shape}",
    "a {shape} coloured {colour}, {position}",
};

const std::array<const char*, 6> kPromptTemplates{
    "a photo of a {}.",
    "a {}.",
    "a drawing of a {}.",
    "a picture of a {}.",
    "there is a {} in the image.",
    "a photo of the {}.",
};

constexpr int kWriterThreads = 2;
constexpr double kPi = 3.14159265358979323846;
constexpr int kSubpixelBits = 4;  // OpenCV drawing `shift`: coordinates in 1/16 pixel

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// std:: distributions are implementation-defined, so the same seed would give other data with
// another standard library; these helpers use only the (standardised) engine output.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  // Inclusive bounds; the modulo bias is below 1e-17 for the ranges used here.
  int uniform_int(int lo, int hi) {
    return lo + static_cast<int>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  bool coin() { return next() >> 63; }

 private:
  std::mt19937_64 engine_;
};

// Each split draws from its own stream, and each item from its own seed within it, so splits
// never share images and threads can render items in any order.
enum Stream : uint64_t { kTrain = 1, kZeroshotSeen, kZeroshotHeldout, kRetrieval };
constexpr uint64_t kLabelOrder = ~0ull;  // item index reserved for the split's label shuffle

uint64_t item_seed(uint64_t seed, Stream stream, uint64_t index) {
  return splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ index);
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

// Everything random about one image, drawn before rendering so the caption can describe it.
struct Appearance {
  int colour = 0;
  Shape shape = kCircle;
  bool large = false;
  Position position = kCenter;
  int caption_template = 0;
  double radius = 0;  // pixels; the shape stays within this distance of its centre
  cv::Point2d centre;
  double angle = 0;
  cv::Scalar bgr;
  int background = 0;
};

bool is_held_out(int colour, int shape) {
  return std::any_of(kHeldOut.begin(), kHeldOut.end(), [&](const auto& held) {
    return kColours[colour].name == std::string(held.first) && shape == held.second;
  });
}

cv::Point2d place(Position position, double radius, int image_size, Random& rng) {
  const double middle = (image_size - 1) / 2.0;
  // One pixel more keeps the antialiased edge inside the image.
  const double reach = std::max(0.0, middle - radius - 1.0);
  const double along = reach * rng.uniform(0.6, 1.0);
  const double across = reach * rng.uniform(-0.25, 0.25);
  switch (position) {
    case kLeft:
      return {middle - along, middle + across};
    case kRight:
      return {middle + along, middle + across};
    case kTop:
      return {middle + across, middle - along};
    case kBottom:
      return {middle + across, middle + along};
    default:
      return {middle + 0.8 * across, middle + 0.8 * reach * rng.uniform(-0.25, 0.25)};
  }
}

cv::Scalar jittered(const cv::Vec3b& bgr, Random& rng) {
  cv::Scalar out;
  for (int c = 0; c < 3; ++c) out[c] = std::clamp(bgr[c] + rng.uniform_int(-12, 12), 0, 255);
  return out;
}

Appearance draw_appearance(int label, int image_size, Random& rng) {
  Appearance a;
  a.colour = label / kShapeCount;
  a.shape = static_cast<Shape>(label % kShapeCount);
  a.large = rng.coin();
  a.position = static_cast<Position>(rng.uniform_int(0, kPositionCount - 1));
  a.caption_template = rng.uniform_int(0, static_cast<int>(kCaptionTemplates.size()) - 1);
  a.radius = image_size * (a.large ? rng.uniform(0.28, 0.34) : rng.uniform(0.14, 0.18));
  a.centre = place(a.position, a.radius, image_size, rng);
  a.angle = a.shape == kCircle ? 0.0 : rng.uniform(-10.0, 10.0) * kPi / 180.0;
  a.bgr = jittered(kColours[a.colour].bgr, rng);
  a.background = rng.uniform_int(40, 215);
  return a;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// "a orange" -> "an orange", wherever the template put the article.
std::string fix_articles(std::string text) {
  text.insert(0, " ");
  for (char vowel : std::string("aeiou")) {
    replace_all(text, std::string(" a ") + vowel, std::string(" an ") + vowel);
  }
  return text.substr(1);
}

std::string caption(const Appearance& a) {
  std::string text = kCaptionTemplates[a.caption_template];
  replace_all(text, "{size}", a.large ? "large" : "small");
  replace_all(text, "{colour}", kColours[a.colour].name);
  replace_all(text, "{shape}", kShapeNames[a.shape]);
  replace_all(text, "{position}", kPositionPhrases[a.position]);
  return fix_articles(text);
}

// Vertices `count` steps around the centre, cycling through `radii` (two radii make a star), in
// OpenCV's fixed-point coordinates.
std::vector<cv::Point> ring(const Appearance& a, int count, double start,
                            const std::vector<double>& radii) {
  const double scale = 1 << kSubpixelBits;
  std::vector<cv::Point> points;
  for (int k = 0; k < count; ++k) {
    const double angle = start + a.angle + 2 * kPi * k / count;
    const double r = radii[k % radii.size()];
    points.emplace_back(static_cast<int>(std::lround((a.centre.x + r * std::cos(angle)) * scale)),
                        static_cast<int>(std::lround((a.centre.y + r * std::sin(angle)) * scale)));
  }
  return points;
}

std::vector<cv::Point> outline(const Appearance& a) {
  const double r = a.radius;
  switch (a.shape) {
    // Half-side 0.8 r: rotated by up to 10 degrees the square still fits within r.
    case kSquare:
      return ring(a, 4, kPi / 4, {0.8 * std::sqrt(2.0) * r});
    case kTriangle:
      return ring(a, 3, -kPi / 2, {r});
    default:
      return ring(a, 10, -kPi / 2, {r, 0.45 * r});
  }
}

void draw_shape(cv::Mat& image, const Appearance& a) {
  if (a.shape == kCircle) {
    const double scale = 1 << kSubpixelBits;
    const cv::Point centre(static_cast<int>(std::lround(a.centre.x * scale)),
                           static_cast<int>(std::lround(a.centre.y * scale)));
    cv::circle(image, centre, static_cast<int>(std::lround(a.radius * scale)), a.bgr, cv::FILLED,
               cv::LINE_AA, kSubpixelBits);
    return;
  }
  const std::vector<std::vector<cv::Point>> polygons{outline(a)};
  cv::fillPoly(image, polygons, a.bgr, cv::LINE_AA, kSubpixelBits);
}

// Binomial(64, 1/2) - 32: close to Gaussian with sd 4 grey levels, one engine call per byte, and
// exactly reproducible, unlike anything built on libm.
void add_noise(cv::Mat& image, Random& rng) {
  uint8_t* data = image.ptr<uint8_t>();
  const size_t bytes = image.total() * image.elemSize();
  for (size_t i = 0; i < bytes; ++i) {
    const int noise = static_cast<int>(std::bitset<64>(rng.next()).count()) - 32;
    data[i] = static_cast<uint8_t>(std::clamp(data[i] + noise, 0, 255));
  }
}

cv::Mat render(const Appearance& a, int image_size, Random& rng) {
  cv::Mat image(image_size, image_size, CV_8UC3, cv::Scalar::all(a.background));
  draw_shape(image, a);
  add_noise(image, rng);
  return image;
}

// Returns the item's caption.
std::string write_item(const Item& item, const std::string& out_dir, const SynthOptions& options) {
  Random rng(item_seed(options.seed, item.split->stream, item.index));
  const Appearance a = draw_appearance(item.split->labels[item.index], options.image_size, rng);
  const std::string path = (fs::path(out_dir) / item.path).string();
  // Fixed here rather than left to OpenCV's default, which has changed between versions.
  if (!cv::imwrite(path, render(a, options.image_size, rng), {cv::IMWRITE_PNG_COMPRESSION, 1})) {
    throw DataError(path + ": cannot write image");
  }
  return caption(a);
}

// Items are independent, so each thread takes every kWriterThreads-th one and the output does not
// depend on scheduling.
std::vector<std::string> write_items(const std::vector<Item>& items, const std::string& out_dir,
                                     const SynthOptions& options) {
  std::vector<std::string> captions(items.size());
  std::vector<std::exception_ptr> errors(kWriterThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriterThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (size_t i = t; i < items.size(); i += kWriterThreads) {
          captions[i] = write_item(items[i], out_dir, options);
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
std::string image_name(uint64_t index, size_t count) {
  const size_t width = std::max<size_t>(6, std::to_string(count ? count - 1 : 0).size());
  const std::string digits = std::to_string(index);
  return std::string(width - std::min(width, digits.size()), '0') + digits + ".png";
}

std::vector<Item> list_items(const std::vector<Split>& splits) {
  std::vector<Item> items;
  for (const Split& split : splits) {
    for (uint64_t i = 0; i < split.labels.size(); ++i) {
      const std::string name = image_name(i, split.labels.size());
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

// `value(i)` gives the second column for items[i].
template <typename Value>
void write_split_csv(const fs::path& path, const char* value_column, const std::vector<Item>& items,
                     const Split& split, Value value) {
  std::vector<std::string> lines{std::string("filepath\t") + value_column};
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].split == &split) lines.push_back(items[i].path + '\t' + value(i));
  }
  write_lines(path, lines);
}

void check_options(const SynthOptions& options) {
  auto require = [](bool ok, const std::string& what) {
    if (!ok) throw ConfigError("synthetic data: " + what);
  };
  require(options.n >= 0, "n must not be negative, got " + std::to_string(options.n));
  require(options.image_size >= 16,
          "image_size must be at least 16, got " + std::to_string(options.image_size));
  require(options.eval_per_class >= 0,
          "eval_per_class must not be negative, got " + std::to_string(options.eval_per_class));
  require(options.retrieval_n >= 0,
          "retrieval_n must not be negative, got " + std::to_string(options.retrieval_n));
}

std::vector<int> labels_where(const SynthClasses& classes, bool held_out) {
  std::vector<int> labels;
  for (size_t label = 0; label < classes.names.size(); ++label) {
    if (classes.held_out[label] == held_out) labels.push_back(static_cast<int>(label));
  }
  return labels;
}

std::vector<Split> make_splits(const SynthOptions& options, const SynthClasses& classes) {
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

SynthClasses synthetic_classes() {
  SynthClasses classes;
  for (const Colour& colour : kColours) classes.colours.push_back(colour.name);
  for (const char* shape : kShapeNames) classes.shapes.push_back(shape);
  for (size_t c = 0; c < kColours.size(); ++c) {
    for (int s = 0; s < kShapeCount; ++s) {
      classes.names.push_back(classes.colours[c] + " " + classes.shapes[s]);
      classes.held_out.push_back(is_held_out(static_cast<int>(c), s));
    }
  }
  return classes;
}

void write_synthetic_dataset(const std::string& out_dir, const SynthOptions& options) {
  check_options(options);
  const SynthClasses classes = synthetic_classes();
  const std::vector<Split> splits = make_splits(options, classes);
  const fs::path root(out_dir);
  try {
    for (const Split& split : splits) fs::create_directories(root / "images" / split.name);
  } catch (const fs::filesystem_error& e) {
    throw DataError(out_dir + ": cannot create directories: " + e.code().message());
  }
  const std::vector<Item> items = list_items(splits);
  const std::vector<std::string> captions = write_items(items, out_dir, options);

  // The tables come after the images so that an interrupted run never lists missing files.
  const auto title = [&](size_t i) { return captions[i]; };
  const auto label = [&](size_t i) {
    return std::to_string(items[i].split->labels[items[i].index]);
  };
  write_split_csv(root / "train.csv", "title", items, splits[0], title);
  write_split_csv(root / "zeroshot_seen.csv", "label", items, splits[1], label);
  write_split_csv(root / "zeroshot_heldout.csv", "label", items, splits[2], label);
  write_split_csv(root / "retrieval.csv", "title", items, splits[3], title);
  write_lines(root / "classnames.txt", classes.names);
  write_lines(root / "templates.txt",
              std::vector<std::string>(kPromptTemplates.begin(), kPromptTemplates.end()));

  spdlog::info(
      "wrote synthetic data set to {}: {} training pairs, {} + {} zero-shot images "
      "(seen + held-out classes), {} retrieval pairs",
      out_dir, splits[0].labels.size(), splits[1].labels.size(), splits[2].labels.size(),
      splits[3].labels.size());
}

}  // namespace mmtrain
