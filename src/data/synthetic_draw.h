// Seeded randomness, the colour and shape vocabulary and shape drawing shared by the built-in data
// sets (synthetic.cpp, binding_task.cpp). Internal to src/data; identical seeds give identical
// bytes with any standard library.
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <random>

namespace mmtrain::synthetic {

struct Colour {
  const char* name;
  cv::Vec3b bgr;
};

// Saturated and far apart in every channel pair, so that jitter and grey backgrounds never make
// two colours look alike.
inline const std::array<Colour, 6> kColours{{
    {"red", {40, 40, 215}},
    {"green", {50, 170, 40}},
    {"blue", {215, 90, 30}},
    {"yellow", {40, 215, 225}},
    {"purple", {170, 40, 140}},
    {"orange", {20, 130, 245}},
}};

enum Shape { kCircle, kSquare, kTriangle, kStar, kShapeCount };
inline const std::array<const char*, kShapeCount> kShapeNames{"circle", "square", "triangle",
                                                              "star"};

// std:: distributions are implementation-defined, so the same seed would give other data with
// another standard library; these helpers use only the (standardised) engine output.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  // Inclusive bounds; the modulo bias is below 1e-17 for the ranges used here.
  int uniform_int(int lo, int hi) {
    return lo + static_cast<int>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  bool coin() { return next() >> 63; }

 private:
  std::mt19937_64 engine_;
};

// One filled shape, fully determined: drawing it consumes no randomness.
struct Glyph {
  Shape shape = kCircle;
  double radius = 0;  // pixels; the shape stays within this distance of its centre
  cv::Point2d centre;
  double angle = 0;  // radians
  cv::Scalar bgr;
};

// A small tilt for shapes that have corners; circles stay at 0 so they consume no randomness.
double random_tilt(Shape shape, Random& rng);
// The colour with each channel moved by up to 12 grey levels.
cv::Scalar jittered(const cv::Vec3b& bgr, Random& rng);

void draw_glyph(cv::Mat& image, const Glyph& glyph);
// Sensor-like noise on every byte, reproducible across platforms (no libm).
void add_noise(cv::Mat& image, Random& rng);

}  // namespace mmtrain::synthetic
