// The built-in table-top simulator of the action task: a top-down table with cups, bowls, blocks
// and balls (five colours, two sizes) and a gripper, in continuous coordinates (the table is the
// unit square, x to the right, y downwards, as in the image). A policy moves the gripper by a
// bounded displacement per step and opens or closes it; a scripted expert solves every task.
//
// Physics, kept simple on purpose:
// - An open gripper hovers: it moves over objects without touching them.
// - Closing grasps the nearest pickable object (not a bowl) whose centre is within grasp reach;
//   a held object moves with the gripper. Opening releases it where it is.
// - A closed gripper that holds nothing is lowered to the table: moving it into an object pushes
//   that object along the same displacement (pushing), objects stay on the table.
//
// Everything is deterministic from seeds: the same episode seed gives the same scene, task and
// instruction, and the same noise seed the same image bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace mmtrain::tabletop {

enum class Kind { cup, bowl, block, ball };
enum class TaskType { pick, place, push };
enum class Edge { left, right, top, bottom };
// Where an episode's task comes from: training targets, the same kinds of target in new scenes,
// or only the held-out colour-kind pairs (never a target in training, though both the colour and
// the kind are targets there and the pair itself appears as a distractor).
enum class Split { train, test, heldout };

const std::vector<std::string>& kind_names();  // cup bowl block ball
const std::vector<std::string>& task_names();  // pick place push
const std::vector<std::string>& edge_names();  // left right top bottom
const std::vector<std::string>& split_names(); // train test heldout
// Throws ConfigError naming `what` and listing the split names for an unknown one.
Split split_from_name(const std::string& name, const std::string& what);
// The colours are the scenes' (scene_colours()).

struct Object {
  int colour = 0;  // index into scene_colours()
  Kind kind = Kind::cup;
  bool large = false;       // false for bowls: they come in one size
  double x = 0.5, y = 0.5;  // centre, table coordinates in [0,1]
};

struct Gripper {
  double x = 0.5, y = 0.5;
  bool closed = false;
  int held = -1;  // index of the held object, -1 when none
};

struct State {
  std::vector<Object> objects;  // no two share both colour and kind
  Gripper gripper;
  int table_shade = 0;  // a small offset of the table's grey level
};

struct Task {
  TaskType type = TaskType::pick;
  int target = 0;            // the object to pick, place or push
  int destination = -1;      // place: the bowl
  Edge edge = Edge::left;    // push: where to
  std::string instruction;   // one of several phrasings, e.g. "pick up the red cup"
};

// An action: the gripper's displacement (each coordinate clipped to +-kMaxStep) and its command,
// closed when grip >= 0.5.
struct Action {
  double dx = 0, dy = 0, grip = 0;
};
constexpr int kActionDims = 3;  // dx dy grip
constexpr int kStateDims = 4;   // gripper x, y, closed (0/1), holding (0/1)
constexpr double kMaxStep = 0.08;
constexpr int kMaxSteps = 60;   // an episode (expert or policy) ends unsuccessful after this many steps

// Sizes and reaches, in table units.
constexpr double kSmallRadius = 0.055;
constexpr double kLargeRadius = 0.075;
constexpr double kBowlRadius = 0.09;     // every bowl, whatever its `large`
constexpr double kGraspReach = 0.045;    // closing grasps an object whose centre is this near
constexpr double kPushReach = 0.02;      // a lowered gripper this far into an object's rim pushes it
constexpr double kEdgeZone = 0.15;       // a push succeeds once the centre is this near the edge

double object_radius(const Object& object);
bool pickable(Kind kind);  // every kind but the bowl

std::array<double, kActionDims> to_array(const Action& action);
Action from_array(const double* values);  // kActionDims values
// The proprioception a policy sees: gripper x, y, closed, holding.
std::array<float, kStateDims> proprioception(const State& state);

// The state after one action. The gripper moves first with its grip as it was (the displacement
// clipped, the gripper kept over the table): a held object goes with it; a closed empty gripper
// pushes every object whose centre it ends within (radius + kPushReach) of, by the same
// displacement, objects kept on the table. Then the grip command: closing grasps the nearest
// pickable object within kGraspReach (centred under the gripper), opening releases the held
// object where it is. So "close" and "move" are separate steps, and a gripper that closes next to
// an object does not jolt it.
State step(const State& state, const Action& action);
bool succeeded(const State& state, const Task& task);

// A scene and task from an episode seed: 4 or 5 objects apart from each other, one bowl (a place
// destination) and the rest pickable, the gripper somewhere over the table, open. The split
// decides which colour-kind pairs may be the target.
struct Episode {
  State state;
  Task task;
};
Episode random_episode(uint64_t seed, Split split);
// The held-out colour-kind target pairs, as "red cup" names.
std::vector<std::string> held_out_pairs();
std::string object_name(const Object& object);  // "red cup"

// The scripted expert: the next action from the state alone (so it recovers from any state).
Action expert_action(const State& state, const Task& task);

// 8-bit BGR image of `size` pixels a side: table, objects, the gripper (two jaws, apart when
// open, together when closed) and a held object under it; seeded sensor noise.
cv::Mat render(const State& state, int size, uint64_t noise_seed);

// A caption of the scene listing its objects in order and where they are in a 3x3 grid ("a red
// cup at the top left, a blue bowl in the centre, a large green ball at the bottom right"; bowls
// are never "large"): contrastive pre-training text.
std::string describe(const State& state);

struct TabletopOptions {
  int64_t train_episodes = 4000;
  int64_t test_episodes = 200;  // new scenes and held-out compositions each
  int image_size = 64;
  uint64_t seed = 0;
};

// Runs the expert on each split's episodes and writes, under out_dir:
// - images/<split>/<episode:06d>_<step:03d>.png: the camera image before each step;
// - <split>.jsonl: one line per step, {"episode", "step", "image" (relative to out_dir),
//   "instruction", "task", "state": [x, y, closed, holding], "action": [dx, dy, grip], "target":
//   [x, y] where the object the instruction names is}, the episodes in order and their steps in
//   order (splits train, test, heldout);
// - <split>_captions.csv: image,caption with describe() of each episode's first image.
// Throws DataError when the expert fails an episode (it never should).
void write_tabletop_dataset(const std::string& out_dir, const TabletopOptions& options);

}  // namespace mmtrain::tabletop
