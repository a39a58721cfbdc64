// Writing tar shards in tests, as webdataset's TarWriter (Python's tarfile) writes them.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace mmtrain::test {

struct TarEntry {
  std::string name;
  std::string data;
  bool is_directory = false;
};

// Writes a pax tar (what Python's tarfile, and so webdataset's TarWriter, writes by default).
inline void write_tar(const std::string& path, const std::vector<TarEntry>& entries, bool gzip = false) {
  archive* tar = archive_write_new();
  archive_write_set_format_pax_restricted(tar);
  if (gzip) archive_write_add_filter_gzip(tar);
  if (archive_write_open_filename(tar, path.c_str()) != ARCHIVE_OK) {
    throw std::runtime_error("cannot write " + path + ": " + archive_error_string(tar));
  }
  for (const TarEntry& entry : entries) {
    archive_entry* header = archive_entry_new();
    archive_entry_set_pathname(header, entry.name.c_str());
    archive_entry_set_filetype(header, entry.is_directory ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(header, entry.is_directory ? 0755 : 0644);
    archive_entry_set_size(header,
                           entry.is_directory ? 0 : static_cast<la_int64_t>(entry.data.size()));
    archive_write_header(tar, header);
    if (!entry.is_directory) archive_write_data(tar, entry.data.data(), entry.data.size());
    archive_entry_free(header);
  }
  archive_write_close(tar);
  archive_write_free(tar);
}

}  // namespace mmtrain::test
