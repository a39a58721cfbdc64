// The scripted expert of the table-top tasks. It decides from the state alone, so the same rules
// finish a task from wherever a policy left it; each phase ends with a motionless grip change,
// which step() applies after the (zero) motion.
#include <algorithm>
#include <cmath>

#include "mmtrain/sim/tabletop.h"

namespace mmtrain::tabletop {

namespace {

constexpr double kArrived = 0.02;         // near enough to a target or bowl centre to grasp or release
// The pusher stops this far beyond the target's rim: clear of it when the gripper lowers, and
// one kMaxStep forward puts the gripper inside the push reach of small and large objects alike.
constexpr double kPusherGap = 0.035;
constexpr double kPusherArrived = 0.015;  // near enough to the pushing point to lower the gripper
constexpr double kAligned = 0.03;         // a lowered pusher further off its line starts over

constexpr double kOpen = 0.0;
constexpr double kClose = 1.0;

struct Vec {
  double x, y;
};

Vec edge_direction(Edge edge) {
  switch (edge) {
    case Edge::left: return {-1, 0};
    case Edge::right: return {1, 0};
    case Edge::top: return {0, -1};
    case Edge::bottom: return {0, 1};
  }
  return {0, 0};
}

double distance_to(const Gripper& g, double x, double y) { return std::hypot(x - g.x, y - g.y); }

// The whole way when it fits in one step, else a step as long as allowed in the same direction
// (scaled, not clipped per coordinate, so the gripper goes straight and lands on the point).
Action move_towards(const Gripper& g, double x, double y, double grip) {
  double dx = x - g.x, dy = y - g.y;
  const double largest = std::max(std::abs(dx), std::abs(dy));
  if (largest > kMaxStep) {
    dx *= kMaxStep / largest;
    dy *= kMaxStep / largest;
  }
  return {dx, dy, grip};
}

Action stay(double grip) { return {0, 0, grip}; }

const Object& object_at(const State& state, int index) { return state.objects.at(static_cast<size_t>(index)); }

Action pick(const State& state, int target) {
  const Gripper& g = state.gripper;
  // Closed on anything but the target (or on nothing): let go first.
  if (g.closed) return stay(g.held == target ? kClose : kOpen);
  const Object& o = object_at(state, target);
  if (distance_to(g, o.x, o.y) > kArrived) return move_towards(g, o.x, o.y, kOpen);
  return stay(kClose);
}

Action place(const State& state, const Task& task) {
  const Gripper& g = state.gripper;
  if (g.held != task.target) return pick(state, task.target);
  const Object& bowl = object_at(state, task.destination);
  if (distance_to(g, bowl.x, bowl.y) > kArrived) return move_towards(g, bowl.x, bowl.y, kClose);
  return stay(kOpen);
}

Action push(const State& state, const Task& task) {
  const Gripper& g = state.gripper;
  const Object& o = object_at(state, task.target);
  const Vec dir = edge_direction(task.edge);
  const double behind = object_radius(o) + kPusherGap;
  // Kept over the table for a target a policy left at the far rim; a shorter gap pushes as well.
  const double px = std::clamp(o.x - dir.x * behind, 0.0, 1.0), py = std::clamp(o.y - dir.y * behind, 0.0, 1.0);
  if (g.held >= 0) return stay(kOpen);
  if (g.closed) {
    // A push moves target and gripper together, so the line is only ever set while hovering.
    const double along = (o.x - g.x) * dir.x + (o.y - g.y) * dir.y;
    const double across = std::abs((o.x - g.x) * dir.y - (o.y - g.y) * dir.x);
    const bool on_line = along > 0 && along <= behind + kAligned && across <= kAligned;
    return on_line ? Action{dir.x * kMaxStep, dir.y * kMaxStep, kClose} : stay(kOpen);
  }
  if (distance_to(g, px, py) > kPusherArrived) return move_towards(g, px, py, kOpen);
  return stay(kClose);
}

}  // namespace

Action expert_action(const State& state, const Task& task) {
  switch (task.type) {
    case TaskType::pick: return pick(state, task.target);
    case TaskType::place: return place(state, task);
    case TaskType::push: return push(state, task);
  }
  return stay(kOpen);
}

}  // namespace mmtrain::tabletop
