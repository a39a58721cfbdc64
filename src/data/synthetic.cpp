#include "mmtrain/data/synthetic.h"

#include <algorithm>
#include <array>
#include <opencv2/core.hpp>
#include <utility>

#include "caption_text.h"
#include "synthetic_draw.h"
#include "synthetic_writer.h"

namespace mmtrain {
namespace {

using namespace synthetic;  // the vocabulary, randomness and drawing shared with binding_task.cpp

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

// Everything random about one image, drawn before rendering so the caption can describe it.
struct Appearance {
  int colour = 0;
  bool large = false;
  Position position = kCenter;
  int caption_template = 0;
  Glyph glyph;
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

Appearance draw_appearance(int label, int image_size, Random& rng) {
  Appearance a;
  a.colour = label / kShapeCount;
  Glyph& g = a.glyph;
  g.shape = static_cast<Shape>(label % kShapeCount);
  a.large = rng.coin();
  a.position = static_cast<Position>(rng.uniform_int(0, kPositionCount - 1));
  a.caption_template = rng.uniform_int(0, static_cast<int>(kCaptionTemplates.size()) - 1);
  g.radius = image_size * (a.large ? rng.uniform(0.28, 0.34) : rng.uniform(0.14, 0.18));
  g.centre = place(a.position, g.radius, image_size, rng);
  g.angle = random_tilt(g.shape, rng);
  g.bgr = jittered(kColours[a.colour].bgr, rng);
  a.background = rng.uniform_int(40, 215);
  return a;
}

std::string describe(const Appearance& a, std::string text) {
  replace_all(text, "{size}", a.large ? "large" : "small");
  replace_all(text, "{colour}", kColours[a.colour].name);
  replace_all(text, "{shape}", kShapeNames[a.glyph.shape]);
  replace_all(text, "{position}", kPositionPhrases[a.position]);
  return fix_articles(text);
}

// The captioning task's target names every attribute, always in this one phrasing.
constexpr const char* kDescription = "a {size} {colour} {shape} {position}";

Rendered render(int label, int image_size, Random& rng) {
  const Appearance a = draw_appearance(label, image_size, rng);
  cv::Mat image(image_size, image_size, CV_8UC3, cv::Scalar::all(a.background));
  draw_glyph(image, a.glyph);
  add_noise(image, rng);
  return {image, describe(a, kCaptionTemplates[a.caption_template]), describe(a, kDescription)};
}

std::string alternatives_of(const std::vector<std::string>& phrases) {
  std::string text;
  for (const auto& phrase : phrases) text += (text.empty() ? "" : "|") + phrase;
  return text;
}

std::vector<std::string> caption_attributes(const SynthClasses& classes) {
  return {"size: large|small", "colour: " + alternatives_of(classes.colours),
          "shape: " + alternatives_of(classes.shapes),
          "position: " + alternatives_of({kPositionPhrases.begin(), kPositionPhrases.end()})};
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
  check_options(write_options(options), "synthetic data");
  const SynthClasses classes = synthetic_classes();
  const ClassList list{classes.names, classes.held_out,
                       {kPromptTemplates.begin(), kPromptTemplates.end()}, caption_attributes(classes)};
  write_dataset("synthetic", out_dir, write_options(options), list,
                [&](int label, Random& rng) { return render(label, options.image_size, rng); });
}

}  // namespace mmtrain
