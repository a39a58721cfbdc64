// Questions about a built-in scene, each with the one answer the scene determines.
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "mmtrain/data/scenes.h"
#include "synthetic_draw.h"

namespace mmtrain {

namespace {

using synthetic::Random;

// The held-out combinations: never asked in training, only in heldout.jsonl.
constexpr int kHeldOutColourOfShape = 2;   // "what colour is the triangle?"
constexpr int kHeldOutShapeOfColour = 1;   // "what shape is the green object?"
constexpr double kClearGap = 0.12;         // a relation or a side is asked only when this clear

// Which questions an asker may produce: the trained combinations, or only the held-out ones.
enum class Split { kTrained, kHeldOut };

const std::string& colour_name(int colour) { return scene_colours().at(static_cast<size_t>(colour)); }
const std::string& shape_name(int shape) { return scene_shapes().at(static_cast<size_t>(shape)); }

template <class Pick>
std::vector<const SceneObject*> objects_where(const Scene& scene, Pick pick) {
  std::vector<const SceneObject*> out;
  for (const SceneObject& object : scene.objects) {
    if (pick(object)) out.push_back(&object);
  }
  return out;
}

template <class T>
const T& choose(const std::vector<T>& items, Random& rng) {
  return items[static_cast<size_t>(rng.uniform_int(0, static_cast<int>(items.size()) - 1))];
}

int count_where(const Scene& scene, const std::function<bool(const SceneObject&)>& pick) {
  return static_cast<int>(std::count_if(scene.objects.begin(), scene.objects.end(), pick));
}

// What a question asks about its object.
enum Says : unsigned { kSaysColour = 1, kSaysShape = 2, kSaysSize = 4 };

std::vector<double> place_of(const SceneObject& object) { return {object.x, object.y}; }

// How a one-object question names its object: a colour question by its shape ("the circle"), a
// shape question by its colour ("the red object"), each only when the scene holds one such object;
// size and position questions by both ("the red circle"). Wider naming ("the large object", "the
// circle" in a size question) was measured: the model learned that colour questions never concern
// a triangle, and the held-out combinations fell from 49% to 15-31% (README).
std::vector<std::string> names_for(const Scene& scene, const SceneObject& object, unsigned hidden) {
  auto unique = [&](auto same) { return count_where(scene, same) == 1; };
  if (hidden & kSaysColour) {
    if (!unique([&](const SceneObject& o) { return o.shape == object.shape; })) return {};
    return {"the " + shape_name(object.shape)};
  }
  if (hidden & kSaysShape) {
    if (!unique([&](const SceneObject& o) { return o.colour == object.colour; })) return {};
    return {"the " + colour_name(object.colour) + " object"};
  }
  return {"the " + object_name(object)};
}

// "<prefix><name>?" about an object `allowed` picks, named without saying the attribute asked.
std::optional<SceneQuestion> ask_about(const Scene& scene, Random& rng, unsigned asked,
                                       const std::function<bool(const SceneObject&)>& allowed, const std::string& prefix,
                                       const std::function<std::string(const SceneObject&)>& answer, const char* type) {
  const auto candidates = objects_where(scene, [&](const SceneObject& o) {
    return allowed(o) && !names_for(scene, o, asked).empty();
  });
  if (candidates.empty()) return std::nullopt;
  const SceneObject& object = *choose(candidates, rng);
  return SceneQuestion{prefix + choose(names_for(scene, object, asked), rng) + "?", answer(object), type, false,
                       place_of(object)};
}

// A question about one object's attribute: held out, only about the one object whose
// `held_attribute` is `held_value`, named as training names any other ("what colour is the
// triangle?"); trained, about any other object.
std::optional<SceneQuestion> ask_attribute(const Scene& scene, Random& rng, Split split, unsigned asked,
                                           int SceneObject::*held_attribute, int held_value, const std::string& prefix,
                                           const std::function<std::string(const SceneObject&)>& answer,
                                           const char* type) {
  const bool held_out = split == Split::kHeldOut;
  auto question = ask_about(
      scene, rng, asked, [&](const SceneObject& o) { return (o.*held_attribute == held_value) == held_out; }, prefix,
      answer, type);
  if (question) question->held_out = held_out;
  return question;
}

// Held out: only "what colour is the triangle?". Trained: the colour of any other object.
std::optional<SceneQuestion> ask_colour(const Scene& scene, Random& rng, Split split) {
  return ask_attribute(scene, rng, split, kSaysColour, &SceneObject::shape, kHeldOutColourOfShape, "what colour is ",
                       [](const SceneObject& o) { return colour_name(o.colour); }, "colour");
}

// Held out: only "what shape is the green object?". Trained: the shape of any other object.
std::optional<SceneQuestion> ask_shape(const Scene& scene, Random& rng, Split split) {
  return ask_attribute(scene, rng, split, kSaysShape, &SceneObject::colour, kHeldOutShapeOfColour, "what shape is ",
                       [](const SceneObject& o) { return shape_name(o.shape); }, "shape");
}

std::optional<SceneQuestion> ask_count(const Scene& scene, Random& rng, Split split) {
  if (split == Split::kHeldOut) return std::nullopt;
  if (rng.coin()) {
    const int colour = rng.uniform_int(0, static_cast<int>(scene_colours().size()) - 1);
    const int n = count_where(scene, [&](const SceneObject& o) { return o.colour == colour; });
    return SceneQuestion{"how many " + colour_name(colour) + " objects are there?", std::to_string(n), "count", false,
                         {}};
  }
  const int shape = rng.uniform_int(0, static_cast<int>(scene_shapes().size()) - 1);
  const int n = count_where(scene, [&](const SceneObject& o) { return o.shape == shape; });
  return SceneQuestion{"how many " + shape_name(shape) + "s are there?", std::to_string(n), "count", false, {}};
}

std::optional<SceneQuestion> ask_existence(const Scene& scene, Random& rng, Split split) {
  if (split == Split::kHeldOut) return std::nullopt;
  SceneObject asked;
  const bool present = rng.coin();
  if (present) {
    asked = choose(scene.objects, rng);
  } else {
    do {
      asked.colour = rng.uniform_int(0, static_cast<int>(scene_colours().size()) - 1);
      asked.shape = rng.uniform_int(0, static_cast<int>(scene_shapes().size()) - 1);
    } while (count_where(scene, [&](const SceneObject& o) { return o.colour == asked.colour && o.shape == asked.shape; }) > 0);
  }
  return SceneQuestion{"is there a " + object_name(asked) + "?", present ? "yes" : "no", "existence", false,
                       present ? place_of(asked) : std::vector<double>{}};
}

// One object's own size and place, read off as the relations need them (Sort-of-CLEVR's
// non-relational questions): without them nothing in training asks for either on its own.
std::optional<SceneQuestion> ask_size(const Scene& scene, Random& rng, Split split) {
  if (split == Split::kHeldOut) return std::nullopt;
  return ask_about(
      scene, rng, kSaysSize, [](const SceneObject&) { return true; }, "what size is ",
      [](const SceneObject& o) { return o.large ? "large" : "small"; }, "size");
}

std::optional<SceneQuestion> ask_position(const Scene& scene, Random& rng, Split split) {
  if (split == Split::kHeldOut) return std::nullopt;
  const SceneObject& object = choose(scene.objects, rng);
  const bool horizontal = std::abs(object.x - 0.5) > kClearGap;
  const bool vertical = std::abs(object.y - 0.5) > kClearGap;
  if (!horizontal && !vertical) return std::nullopt;  // the centre cell
  const std::string name = choose(names_for(scene, object, 0), rng);
  if (horizontal && (!vertical || rng.coin())) {
    return SceneQuestion{"is " + name + " on the left or the right?", object.x < 0.5 ? "left" : "right", "position",
                         false, place_of(object)};
  }
  return SceneQuestion{"is " + name + " at the top or the bottom?", object.y < 0.5 ? "top" : "bottom", "position",
                       false, place_of(object)};
}

// Two different objects, in a random order.
std::pair<const SceneObject*, const SceneObject*> two_objects(const Scene& scene, Random& rng) {
  const int n = static_cast<int>(scene.objects.size());
  const int a = rng.uniform_int(0, n - 1);
  const int b = (a + rng.uniform_int(1, n - 1)) % n;
  return {&scene.objects[static_cast<size_t>(a)], &scene.objects[static_cast<size_t>(b)]};
}

std::optional<SceneQuestion> ask_spatial(const Scene& scene, Random& rng, Split split) {
  if (split == Split::kHeldOut) return std::nullopt;
  const auto [a, b] = two_objects(scene, rng);
  const bool horizontal = std::abs(a->x - b->x) > kClearGap;
  const bool vertical = std::abs(a->y - b->y) > kClearGap;
  if (!horizontal && !vertical) return std::nullopt;
  const bool ask_horizontal = horizontal && (!vertical || rng.coin());
  const bool flip = rng.coin();  // left/right, above/below
  std::string relation;
  bool holds = false;
  if (ask_horizontal) {
    relation = flip ? "right of" : "left of";
    holds = flip ? a->x > b->x : a->x < b->x;
  } else {
    relation = flip ? "below" : "above";
    holds = flip ? a->y > b->y : a->y < b->y;
  }
  return SceneQuestion{"is the " + object_name(*a) + " " + relation + " the " + object_name(*b) + "?",
                       holds ? "yes" : "no", "spatial", false, {}};
}

std::optional<SceneQuestion> ask_comparison(const Scene& scene, Random& rng, Split split) {
  if (split == Split::kHeldOut) return std::nullopt;
  const auto [a, b] = two_objects(scene, rng);
  if (rng.coin()) {
    return SceneQuestion{"is the " + object_name(*a) + " larger than the " + object_name(*b) + "?",
                         a->large && !b->large ? "yes" : "no", "comparison", false, {}};
  }
  return SceneQuestion{"is the " + object_name(*a) + " the same size as the " + object_name(*b) + "?",
                       a->large == b->large ? "yes" : "no", "comparison", false, {}};
}

using Asker = std::optional<SceneQuestion> (*)(const Scene&, Random&, Split);
constexpr Asker kAskers[] = {ask_colour, ask_shape,   ask_count,    ask_existence,
                             ask_size,   ask_position, ask_spatial, ask_comparison};
constexpr int kAskerCount = static_cast<int>(sizeof(kAskers) / sizeof(kAskers[0]));

}  // namespace

std::vector<SceneQuestion> scene_questions(const Scene& scene, uint64_t seed, int count, bool held_out) {
  Random rng(seed);
  const Split split = held_out ? Split::kHeldOut : Split::kTrained;
  std::vector<SceneQuestion> questions;
  // Types in turn from a random start; a few tries each, since some draws cannot be asked.
  int type = rng.uniform_int(0, kAskerCount - 1);
  for (int attempt = 0; attempt < 4 * kAskerCount && static_cast<int>(questions.size()) < count; ++attempt) {
    const auto question = kAskers[type](scene, rng, split);
    type = (type + 1) % kAskerCount;
    if (!question) continue;
    const bool repeated = std::any_of(questions.begin(), questions.end(),
                                      [&](const SceneQuestion& q) { return q.question == question->question; });
    if (!repeated) questions.push_back(*question);
  }
  return questions;
}

}  // namespace mmtrain
