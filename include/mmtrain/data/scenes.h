// The built-in table-top scenes: two to four objects (colour, shape, size) on a table, and
// questions about them with their answers (colour, shape, count, existence, size, position,
// spatial relation, comparison). Deterministic from a seed. The visual question answering task
// trains on them; the action task places its objects with the same generator.
//
// A compositional split keeps some attribute-question combinations out of training (the colour of
// a triangle, the shape of a green object is never asked there): test.jsonl asks the trained kinds
// of question about new scenes, heldout.jsonl asks only the held-out combinations about new scenes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace mmtrain {

struct SceneObject {
  int colour = 0;  // index into scene_colours()
  int shape = 0;   // index into scene_shapes()
  bool large = false;
  double x = 0.5, y = 0.5;  // centre as a fraction of the image side; y grows downwards
  double angle = 0;         // radians; circles 0
};

struct Scene {
  std::vector<SceneObject> objects;  // no two share both colour and shape
  int table_shade = 0;               // a small offset of the table's grey level
};

const std::vector<std::string>& scene_colours();
const std::vector<std::string>& scene_shapes();
// "large red circle" / "red circle"
std::string object_name(const SceneObject& object, bool with_size = false);

// A scene from a seed: 2-4 objects in distinct cells of a 3x3 grid, jittered within the cell.
Scene random_scene(uint64_t seed);
// 8-bit BGR image of `size` pixels a side, with seeded sensor noise.
cv::Mat render_scene(const Scene& scene, int size, uint64_t noise_seed);

struct SceneQuestion {
  std::string question;
  std::string answer;
  std::string type;  // colour | shape | count | existence | size | position | spatial | comparison
  bool held_out = false;  // a combination kept out of training
  // Where the one object the question is about is (its centre, x and y as SceneObject's), for the
  // vqa_point loss; empty when the question is about none or two (count, absent, spatial, comparison).
  std::vector<double> target;
};

// Up to `count` questions about `scene`, each of a type drawn in turn (types that cannot be asked
// of this scene are skipped). With `held_out` the questions are only of the held-out combinations.
std::vector<SceneQuestion> scene_questions(const Scene& scene, uint64_t seed, int count, bool held_out);

struct ScenesOptions {
  int64_t train_scenes = 8000;
  int64_t test_scenes = 600;
  int questions_per_scene = 6;
  int image_size = 64;
  uint64_t seed = 0;
};

// Writes images/{train,test}/NNNNNN.png, train.jsonl, test.jsonl, heldout.jsonl ({"image",
// "question", "answers": [one], "question_type"}, images relative to out_dir) and
// {train,test}_scenes.jsonl (every scene's objects) under out_dir.
void write_scenes_dataset(const std::string& out_dir, const ScenesOptions& options);

}  // namespace mmtrain
