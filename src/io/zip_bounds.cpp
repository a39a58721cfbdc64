#include "mmtrain/io/zip_bounds.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "mmtrain/io/pickle_lengths.h"

namespace mmtrain {

namespace {

constexpr uint32_t kEndSignature = 0x06054b50;          // end of central directory
constexpr uint32_t kZip64EndSignature = 0x06064b50;     // its zip64 form
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint32_t kEntrySignature = 0x02014b50;        // central directory file header
constexpr uint64_t kEndSize = 22, kLocatorSize = 20, kZip64EndSize = 56, kEntrySize = 46, kLocalHeaderSize = 30;
constexpr uint64_t kMaxComment = 0xffff;
constexpr uint64_t kStored = 0, kDeflated = 8;
constexpr uint64_t kMaxDeflateRatio = 1032;  // deflate's best case
constexpr uint64_t kMaxDeflatedBytes = uint64_t{64} << 20;

// Reads `size` bytes at `offset` of the archive (the caller guarantees offset + size <= file size).
using ReadAt = std::function<std::string(uint64_t offset, uint64_t size)>;

uint64_t le(const std::string& bytes, size_t at, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[at + i]);
  return value;
}

struct Directory {
  uint64_t entries = 0, size = 0, offset = 0;
};

// The end record sits in the last 22 bytes plus at most a 64 KB comment; search backwards.
Directory find_directory(uint64_t file_size, const ReadAt& read_at) {
  if (file_size < kEndSize) throw std::runtime_error("too short to be a zip archive");
  const uint64_t tail_size = std::min(file_size, kEndSize + kMaxComment);
  const std::string tail = read_at(file_size - tail_size, tail_size);
  for (uint64_t at = tail_size - kEndSize + 1; at-- > 0;) {
    if (le(tail, at, 4) != kEndSignature) continue;
    Directory directory{le(tail, at + 10, 2), le(tail, at + 12, 4), le(tail, at + 16, 4)};
    const uint64_t end_offset = file_size - tail_size + at;
    if (directory.entries == 0xffff || directory.size == 0xffffffff || directory.offset == 0xffffffff) {
      if (end_offset < kLocatorSize) throw std::runtime_error("zip64 end record missing");
      const std::string locator = read_at(end_offset - kLocatorSize, kLocatorSize);
      if (le(locator, 0, 4) != kZip64LocatorSignature) throw std::runtime_error("zip64 end record missing");
      const uint64_t zip64_offset = le(locator, 8, 8);
      if (zip64_offset > file_size || kZip64EndSize > file_size - zip64_offset) {
        throw std::runtime_error("zip64 end record beyond the end of the file");
      }
      const std::string end = read_at(zip64_offset, kZip64EndSize);
      if (le(end, 0, 4) != kZip64EndSignature) throw std::runtime_error("zip64 end record missing");
      directory = {le(end, 32, 8), le(end, 40, 8), le(end, 48, 8)};
    }
    if (directory.offset > file_size || directory.size > file_size - directory.offset) {
      throw std::runtime_error("zip central directory beyond the end of the file (truncated?)");
    }
    if (directory.entries > directory.size / kEntrySize) {
      throw std::runtime_error("zip central directory claims more entries than it holds");
    }
    return directory;
  }
  throw std::runtime_error("no zip end-of-central-directory record (truncated?)");
}

// Sizes and offset (of its local header) of one entry: 32-bit fields, or all-ones and the zip64
// extra field (id 1).
struct Entry {
  std::string name;
  uint64_t method = 0, compressed = 0, uncompressed = 0, offset = 0;
};

void read_zip64_fields(const std::string& extra, Entry& entry) {
  for (size_t at = 0; at + 4 <= extra.size();) {
    const uint64_t id = le(extra, at, 2), length = le(extra, at + 2, 2);
    if (at + 4 + length > extra.size()) break;
    if (id == 1) {
      size_t field = at + 4;
      for (uint64_t* value : {&entry.uncompressed, &entry.compressed, &entry.offset}) {
        if (*value != 0xffffffff) continue;
        if (field + 8 > at + 4 + length) throw std::runtime_error("zip64 extra field cut short");
        *value = le(extra, field, 8);
        field += 8;
      }
      return;
    }
    at += 4 + length;
  }
}

// Stored entries (tensor data) hold exactly their size; deflated ones (TorchScript's code) unpack
// to at most deflate's ratio and a stated limit.
void check_entry(const Entry& entry, uint64_t file_size) {
  const std::string name = "zip entry '" + entry.name + "'";
  if (entry.offset > file_size || entry.compressed > file_size - entry.offset) {
    throw std::runtime_error(name + " lies beyond the end of the file");
  }
  if (entry.method == kStored && entry.uncompressed != entry.compressed) {
    throw std::runtime_error(name + " claims " + std::to_string(entry.uncompressed) + " bytes but stores " +
                             std::to_string(entry.compressed));
  }
  if (entry.method == kDeflated &&
      (entry.uncompressed > kMaxDeflatedBytes || entry.uncompressed > kMaxDeflateRatio * entry.compressed + 1024)) {
    throw std::runtime_error(name + " claims " + std::to_string(entry.uncompressed) + " bytes unpacked from " +
                             std::to_string(entry.compressed) + " (more than deflate gives, or than 64 MB)");
  }
  if (entry.method != kStored && entry.method != kDeflated) {
    throw std::runtime_error(name + " uses compression method " + std::to_string(entry.method) +
                             ", not one LibTorch writes");
  }
}

// The entries, each checked by check_entry.
std::vector<Entry> check_zip_bounds(uint64_t file_size, const ReadAt& read_at) {
  const Directory directory = find_directory(file_size, read_at);
  std::vector<Entry> entries;
  const std::string bytes = read_at(directory.offset, directory.size);
  size_t at = 0;
  for (uint64_t i = 0; i < directory.entries; ++i) {
    if (at + kEntrySize > bytes.size() || le(bytes, at, 4) != kEntrySignature) {
      throw std::runtime_error("zip central directory entry " + std::to_string(i) + " is malformed");
    }
    Entry entry{"", le(bytes, at + 10, 2), le(bytes, at + 20, 4), le(bytes, at + 24, 4), le(bytes, at + 42, 4)};
    const uint64_t name_size = le(bytes, at + 28, 2), extra_size = le(bytes, at + 30, 2);
    const uint64_t comment = le(bytes, at + 32, 2);
    if (at + kEntrySize + name_size + extra_size + comment > bytes.size()) {
      throw std::runtime_error("zip central directory entry " + std::to_string(i) + " is cut short");
    }
    entry.name = bytes.substr(at + kEntrySize, name_size);
    read_zip64_fields(bytes.substr(at + kEntrySize + name_size, extra_size), entry);
    check_entry(entry, file_size);
    entries.push_back(std::move(entry));
    at += kEntrySize + name_size + extra_size + comment;
  }
  return entries;
}

}  // namespace

void check_zip_file_bounds(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open");
  const auto file_size = static_cast<uint64_t>(in.tellg());
  check_zip_bounds(file_size, [&](uint64_t offset, uint64_t size) {
    std::string bytes(size, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (!in) throw std::runtime_error("cannot read its zip directory");
    return bytes;
  });
}

void check_torchscript_archive(const std::string& bytes) {
  const auto entries =
      check_zip_bounds(bytes.size(), [&](uint64_t offset, uint64_t size) { return bytes.substr(offset, size); });
  for (const Entry& entry : entries) {
    if (entry.name.size() < 4 || entry.name.compare(entry.name.size() - 4, 4, ".pkl") != 0) continue;
    if (entry.method != kStored) throw std::runtime_error("zip entry '" + entry.name + "' is a compressed pickle");
    // The local header (30 bytes, then its own name and extra field) comes before the data.
    if (entry.offset + kLocalHeaderSize > bytes.size()) {
      throw std::runtime_error("zip entry '" + entry.name + "' has no local header");
    }
    const uint64_t data =
        entry.offset + kLocalHeaderSize + le(bytes, entry.offset + 26, 2) + le(bytes, entry.offset + 28, 2);
    if (data > bytes.size() || entry.compressed > bytes.size() - data) {
      throw std::runtime_error("zip entry '" + entry.name + "' lies beyond the end of the file");
    }
    check_pickle_lengths(bytes.substr(data, entry.compressed), entry.name);
  }
}

}  // namespace mmtrain
