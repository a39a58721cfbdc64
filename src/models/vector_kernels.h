// Branch-free float helpers shared by the CPU kernels' loops (attention_math.cpp,
// activation_math.cpp), written so that GCC vectorises the loops around them. Files that include
// this are built with -fno-trapping-math (without it GCC will not turn the clamps into vector
// selects) but not -ffast-math, which would assume away the -inf of attention masks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

// One clone per instruction set, chosen when the program loads (GNU ifunc): Debian builds for
// baseline x86-64, where these loops would run 4 floats at a time instead of 16.
#define MMTRAIN_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace mmtrain::vector_kernels {

inline float bits_to_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline uint32_t float_to_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  return bits;
}

// Cephes' expf: x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for e^r, then 2^n from the
// exponent bits. Within 1 ulp on [-87, 88]; 0 below (so -inf gives exactly 0); NaN stays NaN.
__attribute__((always_inline)) inline float exp_kernel(float x) {
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kMin = -87.0f, kMax = 88.0f;
  const bool underflow = x < kMin;
  const float c = std::min(std::max(x, kMin), kMax);
  // floor() by truncating a value made positive: truncation vectorises on every target, floor()
  // only where SSE4.1 exists.
  const int32_t n = static_cast<int32_t>(c * kLog2e + 128.5f) - 128;
  const float nf = static_cast<float>(n);
  const float r = c - nf * kLn2Hi - nf * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const float scale = bits_to_float(static_cast<uint32_t>(n + 127) << 23);
  return underflow ? 0.0f : p * scale;
}

inline float bf16_to_float(uint16_t bits) { return bits_to_float(static_cast<uint32_t>(bits) << 16); }

// Round to nearest even; a NaN stays a (quiet) NaN.
inline uint16_t float_to_bf16(float f) {
  const uint32_t bits = float_to_bits(f);
  const uint32_t rounded = bits + 0x7FFFu + ((bits >> 16) & 1u);
  const bool nan = (bits & 0x7FFFFFFFu) > 0x7F800000u;
  return static_cast<uint16_t>(nan ? (bits >> 16) | 0x40u : rounded >> 16);
}

}  // namespace mmtrain::vector_kernels
