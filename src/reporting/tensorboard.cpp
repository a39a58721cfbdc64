#include "mmtrain/reporting/tensorboard.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "mmtrain/reporting/metrics_log.h"

namespace mmtrain {
namespace {

constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0u);
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrc32cTable = make_crc32c_table();

// Field numbers from tensorflow/core/util/event.proto and framework/summary.proto.
constexpr uint32_t kEventWallTime = 1;
constexpr uint32_t kEventStep = 2;
constexpr uint32_t kEventFileVersion = 3;
constexpr uint32_t kEventSummary = 5;
constexpr uint32_t kSummaryValue = 1;
constexpr uint32_t kValueTag = 1;
constexpr uint32_t kValueSimpleValue = 2;
// TensorBoard rejects files whose first event does not name this version.
constexpr char kFileVersion[] = "brain.Event:2";

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void append_little_endian(std::string& out, uint64_t bits, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
}

void append_varint(std::string& out, uint64_t value) {
  for (; value >= 0x80; value >>= 7) out.push_back(static_cast<char>((value & 0x7F) | 0x80));
  out.push_back(static_cast<char>(value));
}

void append_tag(std::string& out, uint32_t field, WireType wire_type) {
  append_varint(out, (field << 3) | wire_type);
}

void append_varint_field(std::string& out, uint32_t field, uint64_t value) {
  append_tag(out, field, kVarint);
  append_varint(out, value);
}

void append_bytes_field(std::string& out, uint32_t field, const std::string& bytes) {
  append_tag(out, field, kLengthDelimited);
  append_varint(out, bytes.size());
  out += bytes;
}

// Protobuf stores double and float as their IEEE bit patterns, little-endian.
template <typename Bits, typename Floating>
void append_floating_field(std::string& out, uint32_t field, WireType wire_type, Floating value) {
  static_assert(sizeof(Bits) == sizeof(Floating), "bit pattern must match the value's size");
  Bits bits;
  std::memcpy(&bits, &value, sizeof(bits));
  append_tag(out, field, wire_type);
  append_little_endian(out, bits, sizeof(bits));
}

std::string encode_version_event(double wall_time) {
  std::string event;
  append_floating_field<uint64_t>(event, kEventWallTime, kFixed64, wall_time);
  append_bytes_field(event, kEventFileVersion, kFileVersion);
  return event;
}

std::string encode_summary(const std::vector<std::pair<std::string, double>>& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string summary_value;
    append_bytes_field(summary_value, kValueTag, tag);
    append_floating_field<uint32_t>(summary_value, kValueSimpleValue, kFixed32,
                                    static_cast<float>(value));
    append_bytes_field(summary, kSummaryValue, summary_value);
  }
  return summary;
}

std::string encode_scalar_event(int64_t step, double wall_time,
                                const std::vector<std::pair<std::string, double>>& scalars) {
  std::string event;
  append_floating_field<uint64_t>(event, kEventWallTime, kFixed64, wall_time);
  // int64 varints carry negative values as their two's complement (ten bytes).
  append_varint_field(event, kEventStep, static_cast<uint64_t>(step));
  append_bytes_field(event, kEventSummary, encode_summary(scalars));
  return event;
}

std::string host_name() {
  char name[256] = {};
  // The last byte stays zero because gethostname need not terminate a truncated name.
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// O_EXCL so that a second writer started within the same second (a quick restart into the same
// folder) gets a suffixed name instead of truncating the first one's file.
std::string create_new_events_file(const std::filesystem::path& folder, double wall_time) {
  const std::string base = (folder / ("events.out.tfevents." +
                                      std::to_string(static_cast<int64_t>(wall_time)) + "." +
                                      host_name()))
                               .string();
  for (int attempt = 0;; ++attempt) {
    const std::string path = attempt == 0 ? base : base + "." + std::to_string(attempt);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      ::close(fd);
      return path;
    }
    if (errno != EEXIST) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  }
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = (crc >> 8) ^ kCrc32cTable[(crc ^ bytes[i]) & 0xFF];
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

TensorBoardWriter::TensorBoardWriter(const std::string& folder) {
  std::filesystem::create_directories(folder);
  const double now = unix_time();
  path_ = create_new_events_file(folder, now);
  out_.open(path_, std::ios::binary);
  if (!out_) throw std::runtime_error(path_ + ": cannot open for writing");
  write_record(encode_version_event(now));
}

void TensorBoardWriter::add_scalars(int64_t step, double wall_time,
                                    const std::vector<std::pair<std::string, double>>& scalars) {
  write_record(encode_scalar_event(step, wall_time, scalars));
}

void TensorBoardWriter::flush() {
  out_.flush();
  if (!out_) throw std::runtime_error(path_ + ": write failed");
}

// TFRecord framing: length, its masked CRC, the data, the data's masked CRC. Written in one call
// and flushed at once, so that a crash leaves at most one torn record at the end and TensorBoard
// still reads every record before it.
void TensorBoardWriter::write_record(const std::string& data) {
  std::string record;
  append_little_endian(record, data.size(), sizeof(uint64_t));
  append_little_endian(record, masked_crc32c(record.data(), record.size()), sizeof(uint32_t));
  record += data;
  append_little_endian(record, masked_crc32c(data.data(), data.size()), sizeof(uint32_t));
  out_.write(record.data(), static_cast<std::streamsize>(record.size()));
  flush();
}

}  // namespace mmtrain
