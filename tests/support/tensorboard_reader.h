// Decodes TensorBoard event files with code of its own (only the CRC is shared with the writer,
// and that is checked against published vectors), so tests check the bytes TensorBoard reads
// rather than the writer's assumptions about them.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "mmtrain/reporting/tensorboard.h"
#include "support/temp_dir.h"

namespace mmtrain::test {

enum WireType : uint32_t { kWireVarint = 0, kWireFixed64 = 1, kWireBytes = 2, kWireFixed32 = 5 };

template <typename To, typename From>
To bit_cast_value(From from) {
  static_assert(sizeof(To) == sizeof(From), "bit pattern must match the value's size");
  To to;
  std::memcpy(&to, &from, sizeof(to));
  return to;
}

// One top-level field of a protobuf message, as any protobuf parser sees it on the wire.
struct ProtoField {
  uint32_t number = 0;
  uint32_t wire_type = 0;
  uint64_t scalar = 0;  // varint value, or the bits of a fixed32/fixed64
  std::string bytes;    // payload of a length-delimited field

  // Protobuf cannot read a known field number sent with another wire type.
  void expect_wire_type(uint32_t expected) const {
    if (wire_type != expected) {
      throw std::runtime_error("field " + std::to_string(number) + " has wire type " +
                               std::to_string(wire_type) + ", expected " + std::to_string(expected));
    }
  }
  double as_double() const {
    expect_wire_type(kWireFixed64);
    return bit_cast_value<double>(scalar);
  }
  float as_float() const {
    expect_wire_type(kWireFixed32);
    return bit_cast_value<float>(static_cast<uint32_t>(scalar));
  }
  const std::string& as_bytes() const {
    expect_wire_type(kWireBytes);
    return bytes;
  }
};

inline uint64_t read_little_endian(const std::string& data, size_t& pos, size_t bytes) {
  if (data.size() - pos < bytes) throw std::runtime_error("truncated fixed-size value");
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) {
    value |= uint64_t{static_cast<unsigned char>(data[pos + i])} << (8 * i);
  }
  pos += bytes;
  return value;
}

inline uint64_t read_varint(const std::string& data, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= data.size()) throw std::runtime_error("truncated varint");
    const auto byte = static_cast<unsigned char>(data[pos++]);
    value |= uint64_t{byte & 0x7Fu} << shift;
    if ((byte & 0x80) == 0) return value;
  }
  throw std::runtime_error("varint longer than 10 bytes");
}

inline ProtoField read_proto_field(const std::string& message, size_t& pos) {
  ProtoField field;
  const uint64_t key = read_varint(message, pos);
  field.number = static_cast<uint32_t>(key >> 3);
  field.wire_type = static_cast<uint32_t>(key & 7);
  switch (field.wire_type) {
    case kWireVarint: field.scalar = read_varint(message, pos); break;
    case kWireFixed64: field.scalar = read_little_endian(message, pos, 8); break;
    case kWireFixed32: field.scalar = read_little_endian(message, pos, 4); break;
    case kWireBytes: {
      const uint64_t size = read_varint(message, pos);
      if (message.size() - pos < size) throw std::runtime_error("truncated length-delimited field");
      field.bytes = message.substr(pos, size);
      pos += size;
      break;
    }
    default: throw std::runtime_error("unsupported wire type " + std::to_string(field.wire_type));
  }
  return field;
}

inline std::vector<ProtoField> parse_proto_fields(const std::string& message) {
  std::vector<ProtoField> fields;
  for (size_t pos = 0; pos < message.size();) fields.push_back(read_proto_field(message, pos));
  return fields;
}

// Reads one masked CRC and throws naming `what` unless it matches `covered`.
inline void check_masked_crc(const std::string& file, size_t& pos, const std::string& covered,
                             const std::string& what) {
  const uint64_t stored = read_little_endian(file, pos, 4);
  if (stored != masked_crc32c(covered.data(), covered.size())) {
    throw std::runtime_error(what + " CRC mismatch before offset " + std::to_string(pos));
  }
}

// The data of every TFRecord; throws on a bad CRC, a length past the end or trailing bytes.
inline std::vector<std::string> read_tfrecords(const std::string& path) {
  const std::string file = read_bytes(path);
  std::vector<std::string> records;
  for (size_t pos = 0; pos < file.size();) {
    const std::string length_bytes = file.substr(pos, 8);
    const uint64_t length = read_little_endian(file, pos, 8);
    check_masked_crc(file, pos, length_bytes, "length");
    if (file.size() - pos < length) throw std::runtime_error("record runs past the end of file");
    records.push_back(file.substr(pos, length));
    pos += length;
    check_masked_crc(file, pos, records.back(), "data");
  }
  return records;
}

// What TensorBoard takes from a tensorflow.Event holding simple_value scalars.
struct DecodedEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::vector<std::pair<std::string, float>> values;
};

// Summary.Value: tag (1, string), simple_value (2, float).
inline std::pair<std::string, float> decode_summary_value(const std::string& message) {
  std::pair<std::string, float> value;
  for (const ProtoField& field : parse_proto_fields(message)) {
    if (field.number == 1) value.first = field.as_bytes();
    if (field.number == 2) value.second = field.as_float();
  }
  return value;
}

// Event: wall_time (1, double), step (2, int64), file_version (3, string), summary (5) whose
// field 1 repeats Summary.Value. Unknown fields are skipped, as protobuf does.
inline DecodedEvent decode_event(const std::string& message) {
  DecodedEvent event;
  for (const ProtoField& field : parse_proto_fields(message)) {
    if (field.number == 1) event.wall_time = field.as_double();
    if (field.number == 2) {
      field.expect_wire_type(kWireVarint);
      event.step = static_cast<int64_t>(field.scalar);
    }
    if (field.number == 3) event.file_version = field.as_bytes();
    if (field.number == 5) {
      for (const ProtoField& summary_field : parse_proto_fields(field.as_bytes())) {
        if (summary_field.number == 1) {
          event.values.push_back(decode_summary_value(summary_field.as_bytes()));
        }
      }
    }
  }
  return event;
}

inline std::vector<DecodedEvent> read_tensorboard_events(const std::string& path) {
  std::vector<DecodedEvent> events;
  for (const std::string& record : read_tfrecords(path)) events.push_back(decode_event(record));
  return events;
}

}  // namespace mmtrain::test
