// The table-top camera: a top-down view drawn with OpenCV, in sub-pixel precision so that small
// moves of the gripper change the image at 64 pixels.
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "../data/synthetic_draw.h"
#include "mmtrain/sim/tabletop.h"

namespace mmtrain::tabletop {

namespace {

constexpr int kShiftBits = 4;               // OpenCV drawing `shift`: coordinates in 1/16 pixel
// OpenCV's anti-aliased fills cover about this many pixels beyond the geometric edge (measured by
// area); shapes are drawn that much smaller so that they keep their size in table units.
constexpr double kDiscSpread = 0.5;
constexpr double kPolygonSpread = 0.7;
constexpr int kTableGrey = 160;             // the scenes' table (render_scene)
constexpr double kCupRing = 0.45;           // of the radius; the rest of a cup shows the table
constexpr double kBowlRim = 0.22;           // of the radius
constexpr double kBlockHalfSide = 0.85;     // of the radius: about a ball's area
constexpr double kJawGapOpen = 0.08;        // jaw centre to jaw centre, table units
constexpr double kJawGapClosed = 0.038;     // jaws all but touching
constexpr double kJawWidth = 0.035;         // over two pixels at 64: dark, not a grey smear
constexpr double kJawLength = 0.08;
constexpr double kHubRadius = 0.016;        // the dot between the jaws
const cv::Scalar kGripperColour(25, 25, 25);

// Table units to pixels, and to OpenCV's fixed point.
struct Canvas {
  cv::Mat image;
  double scale;
  cv::Scalar table;

  int fixed(double v) const { return static_cast<int>(std::lround(v * scale * (1 << kShiftBits))); }
  cv::Point point(double x, double y) const { return {fixed(x), fixed(y)}; }
  int disc_radius(double r) const { return std::max(1, fixed(r - kDiscSpread / scale)); }

  void disc(double x, double y, double r, const cv::Scalar& colour) {
    cv::circle(image, point(x, y), disc_radius(r), colour, cv::FILLED, cv::LINE_AA, kShiftBits);
  }
  // A ring between radii r - width and r. Drawn through an anti-aliased coverage mask rather than
  // a stroke, whose width OpenCV rounds to whole pixels: a small cup's hole would close up.
  void ring(double x, double y, double r, double width, const cv::Scalar& colour) {
    cv::Mat coverage = cv::Mat::zeros(image.size(), CV_8U);
    cv::circle(coverage, point(x, y), disc_radius(r), 255, cv::FILLED, cv::LINE_AA, kShiftBits);
    cv::circle(coverage, point(x, y), disc_radius(r - width), 0, cv::FILLED, cv::LINE_AA, kShiftBits);
    const cv::Rect bounds = cv::boundingRect(coverage);
    for (int row = bounds.y; row < bounds.y + bounds.height; ++row) {
      for (int col = bounds.x; col < bounds.x + bounds.width; ++col) {
        const double w = coverage.at<uint8_t>(row, col) / 255.0;
        cv::Vec3b& pixel = image.at<cv::Vec3b>(row, col);
        for (int c = 0; c < 3; ++c) pixel[c] = cv::saturate_cast<uint8_t>(pixel[c] + w * (colour[c] - pixel[c]));
      }
    }
  }

  void box(double x, double y, double half_width, double half_height, const cv::Scalar& colour) {
    half_width = std::max(0.0, half_width - kPolygonSpread / scale);
    half_height = std::max(0.0, half_height - kPolygonSpread / scale);
    cv::rectangle(image, point(x - half_width, y - half_height), point(x + half_width, y + half_height), colour,
                  cv::FILLED, cv::LINE_AA, kShiftBits);
  }
};

cv::Scalar table_colour(int shade) {
  const int grey = kTableGrey + shade;
  return {static_cast<double>(grey - 20), static_cast<double>(grey), static_cast<double>(grey + 15)};  // warm
}

void draw_object(Canvas& canvas, const Object& o, const cv::Scalar& colour) {
  const double r = object_radius(o);
  switch (o.kind) {
    case Kind::ball:
      canvas.disc(o.x, o.y, r, colour);
      return;
    case Kind::block:
      canvas.box(o.x, o.y, kBlockHalfSide * r, kBlockHalfSide * r, colour);
      return;
    case Kind::cup:
      canvas.ring(o.x, o.y, r, kCupRing * r, colour);
      return;
    case Kind::bowl:
      canvas.disc(o.x, o.y, r, 0.5 * (colour + canvas.table));
      canvas.ring(o.x, o.y, r, kBowlRim * r, colour);
      return;
  }
}

void draw_gripper(Canvas& canvas, const Gripper& g) {
  const double half_gap = 0.5 * (g.closed ? kJawGapClosed : kJawGapOpen);
  for (double side : {-1.0, 1.0}) {
    canvas.box(g.x + side * half_gap, g.y, 0.5 * kJawWidth, 0.5 * kJawLength, kGripperColour);
  }
  canvas.disc(g.x, g.y, kHubRadius, kGripperColour);
}

// Bowls lie under everything, and what the gripper holds is above the table's objects.
int layer(const State& state, size_t index) {
  if (static_cast<int>(index) == state.gripper.held) return 2;
  return state.objects[index].kind == Kind::bowl ? 0 : 1;
}

}  // namespace

cv::Mat render(const State& state, int size, uint64_t noise_seed) {
  synthetic::Random rng(noise_seed);
  Canvas canvas{cv::Mat(size, size, CV_8UC3), static_cast<double>(size), table_colour(state.table_shade)};
  canvas.image.setTo(canvas.table);
  // Jittered in object order, so an object's colour does not depend on what is drawn first.
  std::vector<cv::Scalar> colours;
  for (const Object& o : state.objects) {
    colours.push_back(synthetic::jittered(synthetic::kColours.at(static_cast<size_t>(o.colour)).bgr, rng));
  }
  for (int level = 0; level <= 2; ++level) {
    for (size_t i = 0; i < state.objects.size(); ++i) {
      if (layer(state, i) == level) draw_object(canvas, state.objects[i], colours[i]);
    }
  }
  draw_gripper(canvas, state.gripper);
  synthetic::add_noise(canvas.image, rng);
  return canvas.image;
}

}  // namespace mmtrain::tabletop
