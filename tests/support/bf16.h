// Bf16 values as raw 16 bits, for tests of the kernels that take them (no LibTorch).
#pragma once

#include <cstdint>
#include <cstring>

namespace mmtrain::test {

// Round half to even.
inline uint16_t to_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

inline double from_bf16(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

}  // namespace mmtrain::test
