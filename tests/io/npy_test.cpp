#include "mmtrain/io/npy.h"

#include <cstring>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace mmtrain {
namespace {

TEST(Npy, WritesAVersionOneHeaderAlignedTo64AndTheRawFloats) {
  test::TempDir dir;
  const auto path = (dir.path() / "x.npy").string();
  const float data[6] = {1, 2, 3, 4, 5, 6.5f};
  write_npy_float32(path, data, {2, 3});
  const std::string bytes = test::read_bytes(path);
  ASSERT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos);
  EXPECT_NE(header.find("'shape': (2,3)"), std::string::npos);
  EXPECT_EQ(header.back(), '\n');
  ASSERT_EQ(bytes.size(), 10 + header_len + sizeof(data));
  EXPECT_EQ(std::memcmp(bytes.data() + 10 + header_len, data, sizeof(data)), 0);
}

TEST(Npy, OneDimensionalShapeHasATrailingComma) {
  test::TempDir dir;
  const auto path = (dir.path() / "y.npy").string();
  const float data[2] = {1, 2};
  write_npy_float32(path, data, {2});
  EXPECT_NE(test::read_bytes(path).find("'shape': (2,)"), std::string::npos);
}

}  // namespace
}  // namespace mmtrain
