#include "mmtrain/data/dataset.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "mmtrain/data/csv.h"
#include "mmtrain/errors.h"

namespace mmtrain {

namespace {

std::vector<std::string> split_keys(const std::string& keys) {
  std::vector<std::string> out;
  std::stringstream stream(keys);
  for (std::string key; std::getline(stream, key, ',');) {
    if (!key.empty()) out.push_back(key);
  }
  return out;
}

std::string resolve(const std::filesystem::path& folder, const std::string& image) {
  const std::filesystem::path path(image);
  return path.is_absolute() ? image : (folder / path).string();
}

void report_bad_rows(const CsvTable& table) {
  if (table.bad_rows.empty()) return;
  const auto& first = table.bad_rows.front();
  spdlog::warn("{}: skipped {} bad row(s); first at line {}: {}", table.path, table.bad_rows.size(),
               first.line, first.reason);
}

}  // namespace

PairDataset read_pair_csv(const std::string& path, const std::string& image_key,
                          const std::string& caption_key, char separator) {
  const CsvTable table = read_csv(path, separator);
  const int image_col = table.column(image_key);
  std::vector<int> caption_cols;
  for (const auto& key : split_keys(caption_key)) caption_cols.push_back(table.column(key));
  if (caption_cols.empty()) throw DataError(path + ": no caption column named (caption_key is empty)");
  report_bad_rows(table);

  const auto folder = std::filesystem::path(path).parent_path();
  PairDataset dataset{path, {}, static_cast<int64_t>(table.bad_rows.size())};
  dataset.samples.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    PairSample sample{resolve(folder, row.fields[image_col]), {}, -1, row.line};
    for (int col : caption_cols) sample.captions.push_back(row.fields[col]);
    dataset.samples.push_back(std::move(sample));
  }
  return dataset;
}

PairDataset read_labelled_csv(const std::string& path, const std::string& image_key,
                              const std::string& label_key, char separator) {
  const CsvTable table = read_csv(path, separator);
  const int image_col = table.column(image_key);
  const int label_col = table.column(label_key);
  report_bad_rows(table);

  const auto folder = std::filesystem::path(path).parent_path();
  PairDataset dataset{path, {}, static_cast<int64_t>(table.bad_rows.size())};
  for (const auto& row : table.rows) {
    const std::string& text = row.fields[label_col];
    char* end = nullptr;
    const long long label = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || label < 0) {
      throw DataError(path + ":" + std::to_string(row.line) + ": column '" + label_key +
                      "': expected a class index (0, 1, ...), found '" + text + "'");
    }
    dataset.samples.push_back(PairSample{resolve(folder, row.fields[image_col]), {}, label, row.line});
  }
  return dataset;
}

PairDataset read_image_csv(const std::string& path, const std::string& image_key, char separator) {
  const CsvTable table = read_csv(path, separator);
  const int image_col = table.column(image_key);
  if (!table.bad_rows.empty()) {
    const auto& bad = table.bad_rows.front();
    throw DataError(path + ":" + std::to_string(bad.line) + ": " + bad.reason);
  }
  const auto folder = std::filesystem::path(path).parent_path();
  PairDataset dataset{path, {}, 0};
  for (const auto& row : table.rows) {
    dataset.samples.push_back(PairSample{resolve(folder, row.fields[image_col]), {}, -1, row.line});
  }
  return dataset;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace mmtrain
