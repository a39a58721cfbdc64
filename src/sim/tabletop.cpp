// The table-top simulator's vocabulary, physics and episodes. The expert, the renderer and the
// data set writer are in tabletop_expert.cpp, tabletop_render.cpp and tabletop_writer.cpp.
#include "mmtrain/sim/tabletop.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "../data/synthetic_draw.h"
#include "mmtrain/data/scenes.h"
#include "mmtrain/errors.h"

namespace mmtrain::tabletop {

namespace {

// The target, one bowl, and two or three other pickable objects: a policy that ignores the
// instruction picks up the right one about a third of the time.
constexpr int kMinObjects = 4;
constexpr int kMaxObjects = 5;
constexpr int kColourCount = 5;              // scene_colours()
constexpr double kPlacementMin = 0.12;       // object centres: far enough in that a pusher fits behind
constexpr double kPlacementMax = 0.88;
// Apart by more than a pusher's offset behind a target plus grasp reach, so the expert never
// grasps a distractor where it lowers the gripper to push, and never a bowl's rim touches another.
constexpr double kMinSeparation = 0.2;
constexpr int kPlacementTries = 100;         // per object, before all are placed again
constexpr double kGripperMin = 0.1;          // where the gripper starts
constexpr double kGripperMax = 0.9;
constexpr double kPreferredPushDistance = 0.25;  // a push edge at least this far from the edge zone
constexpr int kTableShade = 15;              // the table's grey level varies by up to this

struct ColourKind {
  int colour;
  Kind kind;
};
// Never a target in train or test: red, green and blue and cups, blocks and balls all are.
constexpr std::array<ColourKind, 3> kHeldOutPairs{{{0, Kind::cup}, {2, Kind::ball}, {1, Kind::block}}};
constexpr std::array<Kind, 3> kPickableKinds{Kind::cup, Kind::block, Kind::ball};

const std::vector<std::string> kPickPhrasings{"pick up the {X}", "grab the {X}", "lift the {X}", "take the {X}"};
const std::vector<std::string> kPlacePhrasings{"put the {X} in the {Y}", "place the {X} into the {Y}",
                                               "drop the {X} in the {Y}"};
const std::vector<std::string> kPushPhrasings{"push the {X} to the {Y} edge", "slide the {X} to the {Y}",
                                              "shove the {X} toward the {Y} side"};

template <class Enum>
const std::string& name_of(const std::vector<std::string>& names, Enum value) {
  return names.at(static_cast<size_t>(value));
}

bool is_held_out(int colour, Kind kind) {
  return std::any_of(kHeldOutPairs.begin(), kHeldOutPairs.end(),
                     [&](const ColourKind& pair) { return pair.colour == colour && pair.kind == kind; });
}

bool same_colour_and_kind(const Object& a, const Object& b) { return a.colour == b.colour && a.kind == b.kind; }

double distance(double ax, double ay, double bx, double by) { return std::hypot(ax - bx, ay - by); }

// NaN or infinite displacements from a policy leave the gripper where it is.
double clipped_step(double d) { return std::isfinite(d) ? std::clamp(d, -kMaxStep, kMaxStep) : 0.0; }

void keep_on_table(Object& object) {
  const double r = object_radius(object);
  object.x = std::clamp(object.x, r, 1.0 - r);
  object.y = std::clamp(object.y, r, 1.0 - r);
}

void move_gripper(State& state, double dx, double dy) {
  Gripper& g = state.gripper;
  const double x = std::clamp(g.x + dx, 0.0, 1.0), y = std::clamp(g.y + dy, 0.0, 1.0);
  const double moved_x = x - g.x, moved_y = y - g.y;  // what the clamp left of the displacement
  g.x = x;
  g.y = y;
  if (g.held >= 0) {
    Object& held = state.objects.at(static_cast<size_t>(g.held));
    held.x = x;
    held.y = y;
    return;
  }
  if (!g.closed) return;  // hovering
  for (Object& object : state.objects) {
    if (distance(object.x, object.y, x, y) >= object_radius(object) + kPushReach) continue;
    object.x += moved_x;
    object.y += moved_y;
    keep_on_table(object);
  }
}

int nearest_within_reach(const State& state) {
  int nearest = -1;
  double best = kGraspReach;
  for (size_t i = 0; i < state.objects.size(); ++i) {
    const Object& o = state.objects[i];
    const double d = distance(o.x, o.y, state.gripper.x, state.gripper.y);
    if (pickable(o.kind) && d <= best) {
      nearest = static_cast<int>(i);
      best = d;
    }
  }
  return nearest;
}

void apply_grip(State& state, bool close) {
  Gripper& g = state.gripper;
  if (close && !g.closed) {
    g.held = nearest_within_reach(state);
    if (g.held >= 0) {
      // Centred under the gripper, as the camera shows it.
      state.objects[static_cast<size_t>(g.held)].x = g.x;
      state.objects[static_cast<size_t>(g.held)].y = g.y;
    }
  }
  if (!close && g.held >= 0) {
    keep_on_table(state.objects.at(static_cast<size_t>(g.held)));
    g.held = -1;
  }
  g.closed = close;
}

// How far the object's centre still is from the edge's success zone (negative once inside it).
double distance_to_zone(const Object& object, Edge edge) {
  switch (edge) {
    case Edge::left: return object.x - kEdgeZone;
    case Edge::right: return (1.0 - kEdgeZone) - object.x;
    case Edge::top: return object.y - kEdgeZone;
    case Edge::bottom: return (1.0 - kEdgeZone) - object.y;
  }
  return 0;
}

// --- Episode generation. Every draw comes from one seeded source, in a fixed order. ---

// One of `items`, each equally likely: one draw.
template <class Items>
const typename Items::value_type& pick_one(const Items& items, synthetic::Random& rng) {
  return items.at(static_cast<size_t>(rng.uniform_int(0, static_cast<int>(items.size()) - 1)));
}

Object random_target(synthetic::Random& rng, Split split) {
  Object target;
  if (split == Split::heldout) {
    const ColourKind& pair = pick_one(kHeldOutPairs, rng);
    target.colour = pair.colour;
    target.kind = pair.kind;
  } else {
    do {
      target.colour = rng.uniform_int(0, kColourCount - 1);
      target.kind = pick_one(kPickableKinds, rng);
    } while (is_held_out(target.colour, target.kind));
  }
  target.large = rng.coin();
  return target;
}

Object random_object(synthetic::Random& rng, Kind kind) {
  Object object;
  object.colour = rng.uniform_int(0, kColourCount - 1);
  object.kind = kind;
  object.large = rng.coin() && kind != Kind::bowl;
  return object;
}

bool adds_a_duplicate(const std::vector<Object>& objects, const Object& object) {
  return std::any_of(objects.begin(), objects.end(), [&](const Object& other) { return same_colour_and_kind(object, other); });
}

// The target first, then a bowl (a place destination in every scene), then pickable kinds.
std::vector<Object> random_objects(synthetic::Random& rng, Split split) {
  const int count = rng.uniform_int(kMinObjects, kMaxObjects);
  std::vector<Object> objects{random_target(rng, split)};
  while (static_cast<int>(objects.size()) < count) {
    const Kind kind = objects.size() == 1 ? Kind::bowl : pick_one(kPickableKinds, rng);
    const Object object = random_object(rng, kind);
    if (!adds_a_duplicate(objects, object)) objects.push_back(object);
  }
  return objects;
}

bool place_each(std::vector<Object>& objects, synthetic::Random& rng) {
  for (size_t i = 0; i < objects.size(); ++i) {
    bool placed = false;
    for (int attempt = 0; attempt < kPlacementTries && !placed; ++attempt) {
      objects[i].x = rng.uniform(kPlacementMin, kPlacementMax);
      objects[i].y = rng.uniform(kPlacementMin, kPlacementMax);
      placed = std::none_of(objects.begin(), objects.begin() + static_cast<std::ptrdiff_t>(i), [&](const Object& other) {
        return distance(objects[i].x, objects[i].y, other.x, other.y) < kMinSeparation;
      });
    }
    if (!placed) return false;
  }
  return true;
}

// Rejection sampling; an unlucky early layout is redrawn whole rather than searched forever.
void place_apart(std::vector<Object>& objects, synthetic::Random& rng) {
  bool placed = false;
  while (!placed) placed = place_each(objects, rng);
}

// The objects in random order (so that neither the caption nor an index gives the target
// away); returns where each original index went.
std::vector<int> shuffle(std::vector<Object>& objects, synthetic::Random& rng) {
  std::vector<int> position(objects.size());
  for (size_t i = 0; i < position.size(); ++i) position[i] = static_cast<int>(i);
  for (int i = static_cast<int>(objects.size()) - 1; i > 0; --i) {
    const int j = rng.uniform_int(0, i);
    std::swap(objects[static_cast<size_t>(i)], objects[static_cast<size_t>(j)]);
    for (int& p : position) p = p == i ? j : p == j ? i : p;
  }
  return position;
}

Gripper random_gripper(const std::vector<Object>& objects, synthetic::Random& rng) {
  Gripper gripper;
  do {
    gripper.x = rng.uniform(kGripperMin, kGripperMax);
    gripper.y = rng.uniform(kGripperMin, kGripperMax);
  } while (std::any_of(objects.begin(), objects.end(), [&](const Object& o) {
    return distance(o.x, o.y, gripper.x, gripper.y) <= kGraspReach;
  }));
  return gripper;
}

int random_bowl(const std::vector<Object>& objects, synthetic::Random& rng) {
  std::vector<int> bowls;
  for (size_t i = 0; i < objects.size(); ++i) {
    if (objects[i].kind == Kind::bowl) bowls.push_back(static_cast<int>(i));
  }
  return pick_one(bowls, rng);
}

// An edge with room to push towards: scenes keep centres in [0.12, 0.88], so the farther of two
// opposite edges is always at least 0.35 from its zone.
Edge random_edge(const Object& target, synthetic::Random& rng) {
  std::vector<Edge> edges;
  for (Edge edge : {Edge::left, Edge::right, Edge::top, Edge::bottom}) {
    if (distance_to_zone(target, edge) >= kPreferredPushDistance) edges.push_back(edge);
  }
  return pick_one(edges, rng);
}

std::string replaced(std::string text, const std::string& placeholder, const std::string& value) {
  const size_t at = text.find(placeholder);
  return at == std::string::npos ? text : text.replace(at, placeholder.size(), value);
}

std::string random_instruction(const State& state, const Task& task, synthetic::Random& rng) {
  const std::vector<std::string>& phrasings =
      task.type == TaskType::pick ? kPickPhrasings : task.type == TaskType::place ? kPlacePhrasings : kPushPhrasings;
  const std::string& phrasing = pick_one(phrasings, rng);
  const std::string second = task.type == TaskType::place ? object_name(state.objects.at(static_cast<size_t>(task.destination)))
                             : task.type == TaskType::push ? name_of(edge_names(), task.edge)
                                                           : std::string();
  return replaced(replaced(phrasing, "{X}", object_name(state.objects.at(static_cast<size_t>(task.target)))), "{Y}", second);
}

const char* region_phrase(const Object& object) {
  static const char* const phrases[3][3] = {{"at the top left", "at the top", "at the top right"},
                                            {"on the left", "in the centre", "on the right"},
                                            {"at the bottom left", "at the bottom", "at the bottom right"}};
  const auto third = [](double v) { return std::clamp(static_cast<int>(v * 3), 0, 2); };
  return phrases[third(object.y)][third(object.x)];
}

}  // namespace

const std::vector<std::string>& kind_names() {
  static const std::vector<std::string> names{"cup", "bowl", "block", "ball"};
  return names;
}

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names{"pick", "place", "push"};
  return names;
}

const std::vector<std::string>& edge_names() {
  static const std::vector<std::string> names{"left", "right", "top", "bottom"};
  return names;
}

const std::vector<std::string>& split_names() {
  static const std::vector<std::string> names{"train", "test", "heldout"};
  return names;
}

Split split_from_name(const std::string& name, const std::string& what) {
  const auto& names = split_names();
  const auto found = std::find(names.begin(), names.end(), name);
  if (found != names.end()) return static_cast<Split>(found - names.begin());
  std::string expected;
  for (const auto& n : names) expected += (expected.empty() ? "" : ", ") + n;
  throw ConfigError(what + ": unknown split '" + name + "' (expected one of " + expected + ")");
}

double object_radius(const Object& object) {
  if (object.kind == Kind::bowl) return kBowlRadius;
  return object.large ? kLargeRadius : kSmallRadius;
}

bool pickable(Kind kind) { return kind != Kind::bowl; }

std::array<double, kActionDims> to_array(const Action& action) { return {action.dx, action.dy, action.grip}; }

Action from_array(const double* values) { return {values[0], values[1], values[2]}; }

std::array<float, kStateDims> proprioception(const State& state) {
  const Gripper& g = state.gripper;
  return {static_cast<float>(g.x), static_cast<float>(g.y), g.closed ? 1.0f : 0.0f, g.held >= 0 ? 1.0f : 0.0f};
}

State step(const State& state, const Action& action) {
  State next = state;
  move_gripper(next, clipped_step(action.dx), clipped_step(action.dy));
  apply_grip(next, action.grip >= 0.5);
  return next;
}

bool succeeded(const State& state, const Task& task) {
  const bool held = state.gripper.held == task.target;
  const Object& target = state.objects.at(static_cast<size_t>(task.target));
  switch (task.type) {
    case TaskType::pick:
      return held;
    case TaskType::place: {
      const Object& bowl = state.objects.at(static_cast<size_t>(task.destination));
      return !held && distance(target.x, target.y, bowl.x, bowl.y) < object_radius(bowl);
    }
    case TaskType::push:
      return !held && distance_to_zone(target, task.edge) < 0;
  }
  return false;
}

Episode random_episode(uint64_t seed, Split split) {
  synthetic::Random rng(seed);
  Episode episode;
  State& state = episode.state;
  Task& task = episode.task;
  state.table_shade = rng.uniform_int(-kTableShade, kTableShade);
  task.type = static_cast<TaskType>(rng.uniform_int(0, static_cast<int>(task_names().size()) - 1));
  state.objects = random_objects(rng, split);
  const std::vector<int> position = shuffle(state.objects, rng);
  task.target = position[0];
  place_apart(state.objects, rng);
  state.gripper = random_gripper(state.objects, rng);
  if (task.type == TaskType::place) task.destination = random_bowl(state.objects, rng);
  if (task.type == TaskType::push) task.edge = random_edge(state.objects[static_cast<size_t>(task.target)], rng);
  task.instruction = random_instruction(state, task, rng);
  return episode;
}

std::vector<std::string> held_out_pairs() {
  std::vector<std::string> names;
  for (const ColourKind& pair : kHeldOutPairs) names.push_back(object_name(Object{pair.colour, pair.kind}));
  return names;
}

std::string object_name(const Object& object) {
  return scene_colours().at(static_cast<size_t>(object.colour)) + " " + name_of(kind_names(), object.kind);
}

std::string describe(const State& state) {
  std::string caption;
  for (const Object& object : state.objects) {
    if (!caption.empty()) caption += ", ";
    caption += std::string("a ") + (object.large && object.kind != Kind::bowl ? "large " : "") + object_name(object) +
               " " + region_phrase(object);
  }
  return caption;
}

}  // namespace mmtrain::tabletop
