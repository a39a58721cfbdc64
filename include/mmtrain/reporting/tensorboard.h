// TensorBoard scalar event files, encoded by hand (TFRecord framing around tensorflow.Event
// protobufs) so that an unmodified TensorBoard shows a run without TensorFlow or protobuf
// libraries. TensorBoard finds files by `*tfevents*` and reads partial files, so every record is
// flushed as soon as it is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace mmtrain {

// CRC-32C (Castagnoli), the checksum TFRecord framing uses.
uint32_t crc32c(const void* data, size_t size);
// TFRecord stores CRCs masked because a CRC of bytes that themselves contain CRCs is weak.
uint32_t masked_crc32c(const void* data, size_t size);

class TensorBoardWriter {
 public:
  // Creates `folder`, opens a new events file in it and writes the file_version event that
  // TensorBoard expects first. Throws std::runtime_error naming the file when it cannot.
  explicit TensorBoardWriter(const std::string& folder);

  // One event at `step` holding every (tag, value); values are stored as float (simple_value).
  // `wall_time` is Unix seconds. Throws std::runtime_error naming the file on a write failure.
  void add_scalars(int64_t step, double wall_time,
                   const std::vector<std::pair<std::string, double>>& scalars);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& data);

  std::string path_;
  std::ofstream out_;
};

}  // namespace mmtrain
