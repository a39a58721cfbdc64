// Reading CSV/TSV files the way open_clip reads them (pandas read_csv): a header row, RFC 4180
// quoting ("" inside quotes, separators and newlines inside quotes), blank lines skipped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmtrain {

struct CsvRow {
  int64_t line = 0;  // 1-based line where the row starts
  std::vector<std::string> fields;
};

// A row that cannot be used (wrong field count, unclosed quote); skipped and counted by callers.
struct CsvBadRow {
  int64_t line = 0;
  std::string reason;  // e.g. "expected 2 fields separated by TAB, found 3"
};

struct CsvTable {
  std::string path;
  std::vector<std::string> header;
  std::vector<CsvRow> rows;
  std::vector<CsvBadRow> bad_rows;

  // Index of column `name`; throws DataError naming the file, the column and the columns found.
  int column(const std::string& name) const;
};

// Throws DataError when the file cannot be read or has no header row.
CsvTable read_csv(const std::string& path, char separator);
CsvTable parse_csv(const std::string& text, const std::string& path, char separator);

}  // namespace mmtrain
