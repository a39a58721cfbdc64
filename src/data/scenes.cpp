#include "mmtrain/data/scenes.h"

#include <algorithm>
#include <array>

#include "synthetic_draw.h"

namespace mmtrain {

namespace {

constexpr int kGrid = 3;                  // cells a side
constexpr int kColourCount = 5;           // the first five of synthetic::kColours
constexpr double kLargeRadius = 0.13;     // of the image side: a large object fills most of a cell
constexpr double kSmallRadius = 0.075;    // small: clearly smaller at 64 pixels (about 5 against 8)

double radius_of(const SceneObject& object) { return object.large ? kLargeRadius : kSmallRadius; }

synthetic::Shape glyph_shape(int shape) {
  static const std::array<synthetic::Shape, 3> shapes{synthetic::kCircle, synthetic::kSquare, synthetic::kTriangle};
  return shapes.at(static_cast<size_t>(shape));
}

bool same_kind(const SceneObject& a, const SceneObject& b) { return a.colour == b.colour && a.shape == b.shape; }

}  // namespace

const std::vector<std::string>& scene_colours() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (int i = 0; i < kColourCount; ++i) out.emplace_back(synthetic::kColours[static_cast<size_t>(i)].name);
    return out;
  }();
  return names;
}

const std::vector<std::string>& scene_shapes() {
  static const std::vector<std::string> names{"circle", "square", "triangle"};
  return names;
}

std::string object_name(const SceneObject& object, bool with_size) {
  const std::string name = scene_colours().at(static_cast<size_t>(object.colour)) + " " +
                           scene_shapes().at(static_cast<size_t>(object.shape));
  return with_size ? (object.large ? "large " : "small ") + name : name;
}

Scene random_scene(uint64_t seed) {
  synthetic::Random rng(seed);
  Scene scene;
  scene.table_shade = rng.uniform_int(-15, 15);
  std::vector<int> cells(kGrid * kGrid);
  for (int i = 0; i < kGrid * kGrid; ++i) cells[static_cast<size_t>(i)] = i;
  const int count = rng.uniform_int(2, 4);
  while (static_cast<int>(scene.objects.size()) < count) {
    SceneObject object;
    object.colour = rng.uniform_int(0, kColourCount - 1);
    object.shape = rng.uniform_int(0, static_cast<int>(scene_shapes().size()) - 1);
    object.large = rng.coin();
    const bool duplicate = std::any_of(scene.objects.begin(), scene.objects.end(),
                                       [&](const SceneObject& other) { return same_kind(object, other); });
    if (duplicate) continue;
    // A cell not yet taken (Fisher-Yates, one step per object).
    const size_t taken = scene.objects.size();
    std::swap(cells[taken], cells[taken + static_cast<size_t>(rng.uniform_int(0, kGrid * kGrid - 1 - static_cast<int>(taken)))]);
    const int cell = cells[taken];
    const double half_cell = 0.5 / kGrid;
    const double slack = std::max(0.0, half_cell - radius_of(object) - 0.01);
    object.x = (cell % kGrid) / static_cast<double>(kGrid) + half_cell + rng.uniform(-slack, slack);
    object.y = (cell / kGrid) / static_cast<double>(kGrid) + half_cell + rng.uniform(-slack, slack);
    object.angle = synthetic::random_tilt(glyph_shape(object.shape), rng);
    scene.objects.push_back(object);
  }
  return scene;
}

cv::Mat render_scene(const Scene& scene, int size, uint64_t noise_seed) {
  synthetic::Random rng(noise_seed);
  const int grey = 160 + scene.table_shade;
  cv::Mat image(size, size, CV_8UC3, cv::Scalar(grey - 20, grey, grey + 15));  // a warm light table
  for (const SceneObject& object : scene.objects) {
    synthetic::Glyph glyph;
    glyph.shape = glyph_shape(object.shape);
    glyph.radius = radius_of(object) * size;
    glyph.centre = cv::Point2d(object.x * size, object.y * size);
    glyph.angle = object.angle;
    glyph.bgr = synthetic::jittered(synthetic::kColours[static_cast<size_t>(object.colour)].bgr, rng);
    synthetic::draw_glyph(image, glyph);
  }
  synthetic::add_noise(image, rng);
  return image;
}

}  // namespace mmtrain
