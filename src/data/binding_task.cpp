#include "mmtrain/data/binding_task.h"

#include <algorithm>
#include <array>
#include <opencv2/core.hpp>

#include "caption_text.h"
#include "synthetic_draw.h"
#include "synthetic_writer.h"

namespace mmtrain {
namespace {

using namespace synthetic;  // the vocabulary, randomness and drawing shared with synthetic.cpp

// The first colours and shapes of the synthetic set: 12 objects and 12 x 3 x 2 = 72 ordered
// scenes, 18 groups of four, so each class still gets many training pairs at a few thousand.
constexpr int kSceneColours = 4;  // red, green, blue, yellow
constexpr int kSceneShapes = 3;   // circle, square, triangle

// {L} is the left object, {R} the right one. Half name the right object first, so that word order
// alone never tells the sides apart; the relation words have to be bound.
const std::array<const char*, 8> kPhrasings{
    "a {L} left of a {R}",
    "a {L} to the left of a {R}",
    "a {R} right of a {L}",
    "a {R} to the right of a {L}",
    "on the left a {L}, on the right a {R}",
    "on the right a {R}, on the left a {L}",
    "a {L} on the left and a {R} on the right",
    "a {R} on the right and a {L} on the left",
};

// The tokenizer is trained on the training captions, so the templates use only characters that
// the captions use: no "photo", "picture" or "image" (no p, no m) and no full stop.
const std::array<const char*, 6> kPromptTemplates{
    "a {}", "{}", "the {}", "there is a {}", "a drawing of a {}", "a scene with a {}",
};

// Index of the unordered pair {a, b} of 0..n-1 in lexicographic order: (0,1), (0,2), ..., (n-2,n-1).
int pair_index(int a, int b, int n) {
  const int lo = std::min(a, b), hi = std::max(a, b);
  return lo * (2 * n - lo - 1) / 2 + (hi - lo - 1);
}

// A group is an unordered colour pair and an unordered shape pair; its four scenes differ in which
// colour and which shape are on the left. Group (colour pair i, shape pair j) holds out variant
// (i + j) mod 4: over the 18 groups every object is then the left object of one or two held-out
// scenes and the right object of one or two, so each object stays on both sides in training.
bool is_held_out(const BindingScene& scene) {
  const BindingObject& l = scene.left;
  const BindingObject& r = scene.right;
  const int variant = 2 * (l.colour > r.colour) + (l.shape > r.shape);
  const int i = pair_index(l.colour, r.colour, kSceneColours);
  const int j = pair_index(l.shape, r.shape, kSceneShapes);
  return variant == (i + j) % 4;
}

std::string describe(const BindingClasses& classes, const BindingScene& scene,
                     const std::string& pattern) {
  std::string text = pattern;
  replace_all(text, "{L}", classes.name_of(scene.left));
  replace_all(text, "{R}", classes.name_of(scene.right));
  return fix_articles(text);
}

struct Layout {
  int phrasing = 0;
  Glyph left, right;
  int background = 0;
};

// The left object somewhere in the left half (the right one mirrored into the right half), at
// least two pixels from the middle, and up and down by up to half the free height.
Glyph place_object(const BindingObject& object, bool on_right, int image_size, Random& rng) {
  Glyph g;
  g.shape = static_cast<Shape>(object.shape);
  g.radius = image_size * rng.uniform(0.12, 0.19);
  // One pixel more keeps the antialiased edge inside the image (and inside the half).
  const double lo = g.radius + 1.0;
  const double hi = image_size / 2.0 - 1.5 - g.radius;
  const double x = lo <= hi ? rng.uniform(lo, hi) : (lo + hi) / 2;
  const double middle = (image_size - 1) / 2.0;
  const double reach = std::max(0.0, middle - g.radius - 1.0);
  g.centre = {on_right ? image_size - 1 - x : x, middle + reach * rng.uniform(-0.5, 0.5)};
  g.angle = random_tilt(g.shape, rng);
  g.bgr = jittered(kColours[object.colour].bgr, rng);
  return g;
}

Layout draw_layout(const BindingScene& scene, int image_size, Random& rng) {
  Layout layout;
  layout.phrasing = rng.uniform_int(0, static_cast<int>(kPhrasings.size()) - 1);
  layout.left = place_object(scene.left, false, image_size, rng);
  layout.right = place_object(scene.right, true, image_size, rng);
  layout.background = rng.uniform_int(40, 215);
  return layout;
}

Rendered render_scene(const BindingClasses& classes, int label, int image_size, Random& rng) {
  const BindingScene& scene = classes.scenes[label];
  const Layout layout = draw_layout(scene, image_size, rng);
  cv::Mat image(image_size, image_size, CV_8UC3, cv::Scalar::all(layout.background));
  draw_glyph(image, layout.left);
  draw_glyph(image, layout.right);
  add_noise(image, rng);
  return {image, describe(classes, scene, kPhrasings[layout.phrasing]), {}};
}

}  // namespace

std::string BindingClasses::name_of(const BindingObject& object) const {
  return colours.at(object.colour) + " " + shapes.at(object.shape);
}

BindingClasses binding_classes() {
  BindingClasses classes;
  for (int c = 0; c < kSceneColours; ++c) classes.colours.push_back(kColours[c].name);
  for (int s = 0; s < kSceneShapes; ++s) classes.shapes.push_back(kShapeNames[s]);
  std::vector<BindingObject> objects;
  for (int c = 0; c < kSceneColours; ++c) {
    for (int s = 0; s < kSceneShapes; ++s) objects.push_back({c, s});
  }
  for (const BindingObject& left : objects) {
    for (const BindingObject& right : objects) {
      // Objects that share a colour or a shape would make some swaps no change at all.
      if (left.colour == right.colour || left.shape == right.shape) continue;
      const BindingScene scene{left, right};
      classes.scenes.push_back(scene);
      classes.names.push_back(describe(classes, scene, "{L} left of a {R}"));
      classes.held_out.push_back(is_held_out(scene));
    }
  }
  return classes;
}

std::vector<std::string> binding_captions(const BindingClasses& classes, int label) {
  std::vector<std::string> captions;
  for (const char* pattern : kPhrasings) {
    captions.push_back(describe(classes, classes.scenes.at(label), pattern));
  }
  return captions;
}

void write_binding_dataset(const std::string& out_dir, const BindingOptions& options) {
  check_options(write_options(options), "binding data");
  const BindingClasses classes = binding_classes();
  const ClassList list{classes.names, classes.held_out,
                       {kPromptTemplates.begin(), kPromptTemplates.end()}, {}};
  write_dataset("binding", out_dir, write_options(options), list, [&](int label, Random& rng) {
    return render_scene(classes, label, options.image_size, rng);
  });
}

}  // namespace mmtrain
