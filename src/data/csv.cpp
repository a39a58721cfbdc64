#include "mmtrain/data/csv.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "mmtrain/errors.h"

namespace mmtrain {
namespace {

constexpr char kQuote = '"';
constexpr const char* kUtf8Bom = "\xEF\xBB\xBF";

// How a field ended, which decides whether the record goes on.
enum class FieldEnd { kSeparator, kLineEnd, kUnclosedQuote };

struct Record {
  int64_t line = 0;
  std::vector<std::string> fields;
  bool unclosed_quote = false;
};

std::string separator_name(char separator) {
  if (separator == '\t') return "TAB";
  if (separator == ',') return "COMMA";
  return std::string("'") + separator + "'";
}

// A whitespace-only line is blank unless its whitespace includes the separator: "\t" in a TSV is a
// row of empty fields, as pandas reads it.
bool is_blank(const char* begin, const char* end, char separator) {
  for (const char* p = begin; p != end; ++p) {
    const bool space = *p == ' ' || *p == '\t' || *p == '\r' || *p == '\v' || *p == '\f';
    if (!space || *p == separator) return false;
  }
  return true;
}

// Splits text into records in one pass; fields are copied out once, straight from the text.
class RecordReader {
 public:
  RecordReader(const std::string& text, char separator)
      : pos_(text.data()), end_(text.data() + text.size()), separator_(separator) {
    if (text.compare(0, 3, kUtf8Bom) == 0) pos_ += 3;
  }

  // Reads the next record after any blank lines; false at the end of the text.
  bool next(Record& record) {
    skip_blank_lines();
    if (pos_ == end_) return false;
    record.line = line_;
    record.fields.clear();
    record.unclosed_quote = false;
    FieldEnd field_end = FieldEnd::kSeparator;
    while (field_end == FieldEnd::kSeparator) {
      record.fields.emplace_back();
      field_end = read_field(record.fields.back());
    }
    record.unclosed_quote = field_end == FieldEnd::kUnclosedQuote;
    return true;
  }

 private:
  const char* find(char c) const {
    return static_cast<const char*>(std::memchr(pos_, c, static_cast<size_t>(end_ - pos_)));
  }

  void skip_blank_lines() {
    while (pos_ != end_) {
      const char* newline = find('\n');
      if (!is_blank(pos_, newline ? newline : end_, separator_)) return;
      if (!newline) {
        pos_ = end_;
        return;
      }
      pos_ = newline + 1;
      ++line_;
    }
  }

  FieldEnd read_field(std::string& field) {
    if (pos_ != end_ && *pos_ == kQuote) {
      ++pos_;
      if (!read_quoted(field)) return FieldEnd::kUnclosedQuote;
    }
    // After a closing quote pandas keeps any further characters up to the separator, so the same
    // unquoted scan serves both a plain field and the tail of a quoted one.
    return read_unquoted(field);
  }

  // Appends the quoted part up to its closing quote; false when the text ends first.
  bool read_quoted(std::string& field) {
    for (;;) {
      const char* quote = find(kQuote);
      const char* stop = quote ? quote : end_;
      count_newlines(pos_, stop);
      field.append(pos_, stop);
      if (!quote) {
        pos_ = end_;
        return false;
      }
      pos_ = quote + 1;
      if (pos_ == end_ || *pos_ != kQuote) return true;
      field.push_back(kQuote);
      ++pos_;
    }
  }

  FieldEnd read_unquoted(std::string& field) {
    const char* start = pos_;
    while (pos_ != end_ && *pos_ != separator_ && *pos_ != '\n') ++pos_;
    if (pos_ != end_ && *pos_ == separator_) {
      field.append(start, pos_++);
      return FieldEnd::kSeparator;
    }
    const char* stop = pos_;
    if (stop != start && stop[-1] == '\r') --stop;  // CRLF
    field.append(start, stop);
    if (pos_ != end_) {
      ++pos_;
      ++line_;
    }
    return FieldEnd::kLineEnd;
  }

  void count_newlines(const char* begin, const char* end) {
    for (const char* p = begin; p != end; ++p) line_ += *p == '\n';
  }

  const char* pos_;
  const char* end_;
  char separator_;
  int64_t line_ = 1;
};

std::string field_count_reason(size_t expected, size_t found, char separator) {
  return "expected " + std::to_string(expected) + " fields separated by " +
         separator_name(separator) + ", found " + std::to_string(found);
}

void check_separator(const std::string& path, char separator) {
  if (separator == kQuote || separator == '\n' || separator == '\r') {
    throw ConfigError(path + ": " + separator_name(separator) + " cannot be a CSV separator");
  }
}

std::string read_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) throw DataError(path + ": cannot open: " + std::strerror(errno));
  std::string text;
  if (std::fseek(file.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(file.get());
    if (size > 0) text.reserve(static_cast<size_t>(size));
    std::rewind(file.get());
  }
  char buffer[1 << 16];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, got);
  // A directory opens fine on Linux and fails only here.
  if (std::ferror(file.get())) throw DataError(path + ": cannot read: " + std::strerror(errno));
  return text;
}

}  // namespace

int CsvTable::column(const std::string& name) const {
  std::string columns;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
    columns += (i ? ", " : "") + header[i];
  }
  throw DataError(path + ": column '" + name + "' not found; columns are: " + columns);
}

CsvTable parse_csv(const std::string& text, const std::string& path, char separator) {
  check_separator(path, separator);
  CsvTable table;
  table.path = path;
  RecordReader reader(text, separator);
  Record record;
  if (!reader.next(record)) throw DataError(path + ": no header row");
  if (record.unclosed_quote) {
    throw DataError(path + ": unclosed quote in the header row (line " +
                    std::to_string(record.line) + ")");
  }
  table.header = std::move(record.fields);
  const size_t width = table.header.size();
  while (reader.next(record)) {
    if (record.unclosed_quote) {
      table.bad_rows.push_back({record.line, "unclosed quote"});
    } else if (record.fields.size() != width) {
      table.bad_rows.push_back(
          {record.line, field_count_reason(width, record.fields.size(), separator)});
    } else {
      table.rows.push_back({record.line, std::move(record.fields)});
      record.fields.reserve(width);
    }
  }
  return table;
}

CsvTable read_csv(const std::string& path, char separator) {
  return parse_csv(read_file(path), path, separator);
}

}  // namespace mmtrain
