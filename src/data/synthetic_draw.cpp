#include "synthetic_draw.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace mmtrain::synthetic {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kSubpixelBits = 4;  // OpenCV drawing `shift`: coordinates in 1/16 pixel

// Vertices `count` steps around the centre, cycling through `radii` (two radii make a star), in
// OpenCV's fixed-point coordinates.
std::vector<cv::Point> ring(const Glyph& g, int count, double start,
                            const std::vector<double>& radii) {
  const double scale = 1 << kSubpixelBits;
  std::vector<cv::Point> points;
  for (int k = 0; k < count; ++k) {
    const double angle = start + g.angle + 2 * kPi * k / count;
    const double r = radii[k % radii.size()];
    points.emplace_back(static_cast<int>(std::lround((g.centre.x + r * std::cos(angle)) * scale)),
                        static_cast<int>(std::lround((g.centre.y + r * std::sin(angle)) * scale)));
  }
  return points;
}

std::vector<cv::Point> outline(const Glyph& g) {
  const double r = g.radius;
  switch (g.shape) {
    // Half-side 0.8 r: rotated by up to 10 degrees the square still fits within r.
    case kSquare:
      return ring(g, 4, kPi / 4, {0.8 * std::sqrt(2.0) * r});
    case kTriangle:
      return ring(g, 3, -kPi / 2, {r});
    default:
      return ring(g, 10, -kPi / 2, {r, 0.45 * r});
  }
}

}  // namespace

double random_tilt(Shape shape, Random& rng) {
  return shape == kCircle ? 0.0 : rng.uniform(-10.0, 10.0) * kPi / 180.0;
}

cv::Scalar jittered(const cv::Vec3b& bgr, Random& rng) {
  cv::Scalar out;
  for (int c = 0; c < 3; ++c) out[c] = std::clamp(bgr[c] + rng.uniform_int(-12, 12), 0, 255);
  return out;
}

void draw_glyph(cv::Mat& image, const Glyph& glyph) {
  if (glyph.shape == kCircle) {
    const double scale = 1 << kSubpixelBits;
    const cv::Point centre(static_cast<int>(std::lround(glyph.centre.x * scale)),
                           static_cast<int>(std::lround(glyph.centre.y * scale)));
    cv::circle(image, centre, static_cast<int>(std::lround(glyph.radius * scale)), glyph.bgr,
               cv::FILLED, cv::LINE_AA, kSubpixelBits);
    return;
  }
  const std::vector<std::vector<cv::Point>> polygons{outline(glyph)};
  cv::fillPoly(image, polygons, glyph.bgr, cv::LINE_AA, kSubpixelBits);
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

}  // namespace mmtrain::synthetic
