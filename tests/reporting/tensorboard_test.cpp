#include "mmtrain/reporting/tensorboard.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "support/tensorboard_reader.h"

namespace mmtrain {
namespace {

using Values = std::vector<std::pair<std::string, float>>;

// Test vectors from RFC 3720 (iSCSI), appendix B.4, plus the usual check value.
TEST(Crc32c, MatchesKnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  std::array<unsigned char, 32> bytes{};
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x8A9136AAu);
  bytes.fill(0xFF);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x62A8AB43u);
  std::iota(bytes.begin(), bytes.end(), 0);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x46DD794Eu);
  std::iota(bytes.rbegin(), bytes.rend(), 0);
  EXPECT_EQ(crc32c(bytes.data(), bytes.size()), 0x113FDB5Cu);
  EXPECT_EQ(crc32c(nullptr, 0), 0u);
}

// The mask rotates right by 15 and adds TFRecord's constant; a rotation the other way would
// still round-trip in our own reader but not in TensorBoard's.
TEST(Crc32c, MaskMatchesTfRecordFormula) {
  EXPECT_EQ(masked_crc32c("123456789", 9), 0xC78AB0E5u);
}

struct TensorBoardRun {
  std::filesystem::path folder;
  std::string path;
};

// Long tags push the Value and Summary lengths past one varint byte, and the second step past
// 32 bits, so that multi-byte varints are exercised too.
const std::string kLongTag = "eval/" + std::string(150, 'a');
constexpr int64_t kLargeStep = 5'000'000'000;

TEST(TensorBoard, WritesRecordsTensorBoardCanRead) {
  test::TempDir dir;
  const std::filesystem::path folder = dir.path() / "runs" / "tb";  // missing: the writer creates it
  TensorBoardWriter writer(folder.string());
  writer.add_scalars(10, 1700000000.25, {{"train/loss", 2.5}, {"train/lr", 1e-4}});
  writer.add_scalars(kLargeStep, 1700000060.5, {{kLongTag, -0.375}});

  // Read while the writer is still open: what add_scalars wrote must already be on disk.
  const auto events = test::read_tensorboard_events(writer.path());
  ASSERT_EQ(events.size(), 3u);

  const std::filesystem::path path(writer.path());
  EXPECT_EQ(path.parent_path(), folder);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_TRUE(events[0].values.empty());
  const std::string seconds = std::to_string(static_cast<int64_t>(events[0].wall_time));
  EXPECT_EQ(path.filename().string().rfind("events.out.tfevents." + seconds + ".", 0), 0u)
      << path.filename();

  EXPECT_EQ(events[1].step, 10);
  EXPECT_EQ(events[1].wall_time, 1700000000.25);
  EXPECT_EQ(events[1].file_version, "");
  EXPECT_EQ(events[1].values, (Values{{"train/loss", 2.5f}, {"train/lr", 1e-4f}}));

  EXPECT_EQ(events[2].step, kLargeStep);
  EXPECT_EQ(events[2].wall_time, 1700000060.5);
  EXPECT_EQ(events[2].values, (Values{{kLongTag, -0.375f}}));
}

TEST(TensorBoard, SecondWriterInSameFolderGetsItsOwnFile) {
  test::TempDir dir;
  TensorBoardWriter first(dir.path().string());
  TensorBoardWriter second(dir.path().string());
  EXPECT_NE(first.path(), second.path());
  EXPECT_EQ(test::read_tensorboard_events(first.path()).size(), 1u);
}

// Guards the reader itself: a decoder that accepted anything would make the test above vacuous.
TEST(TensorBoard, ReaderRejectsCorruptedRecord) {
  test::TempDir dir;
  std::string path;
  {
    TensorBoardWriter writer(dir.path().string());
    writer.add_scalars(1, 1.0, {{"loss", 1.0}});
    path = writer.path();
  }
  std::string bytes = test::read_bytes(path);
  bytes[bytes.size() - 6] ^= 0x01;  // inside the last record's data
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_THROW(test::read_tfrecords(path), std::runtime_error);
}

}  // namespace
}  // namespace mmtrain
