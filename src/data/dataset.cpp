#include "mmtrain/data/dataset.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "mmtrain/data/csv.h"
#include "mmtrain/errors.h"
#include "pair_builder.h"

namespace mmtrain {

namespace {

void add_bad_rows(const CsvTable& table, PairBuilder& builder) {
  for (const auto& bad : table.bad_rows) builder.add_bad(BadKind::kBadRow, bad.line, bad.reason);
}

}  // namespace

PairDataset read_pair_csv(const std::string& path, const std::string& image_key,
                          const std::string& caption_key, char separator,
                          const std::string& image_root) {
  const CsvTable table = read_csv(path, separator);
  const int image_col = table.column(image_key);
  std::vector<int> caption_cols;
  for (const auto& key : split_comma_list(caption_key)) caption_cols.push_back(table.column(key));
  if (caption_cols.empty()) throw DataError(path + ": no caption column named (caption_key is empty)");

  PairBuilder builder(path, image_root);
  add_bad_rows(table, builder);
  for (const auto& row : table.rows) {
    std::vector<std::string> captions;
    for (int col : caption_cols) captions.push_back(row.fields[col]);
    builder.add(row.fields[image_col], std::move(captions), row.line);
  }
  return builder.finish();
}

PairDataset read_labelled_csv(const std::string& path, const std::string& image_key,
                              const std::string& label_key, char separator) {
  const CsvTable table = read_csv(path, separator);
  const int image_col = table.column(image_key);
  const int label_col = table.column(label_key);
  PairBuilder builder(path, "");
  add_bad_rows(table, builder);
  for (const auto& row : table.rows) {
    const std::string& text = row.fields[label_col];
    char* end = nullptr;
    const long long label = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || label < 0) {
      throw DataError(path + ":" + std::to_string(row.line) + ": column '" + label_key +
                      "': expected a class index (0, 1, ...), found '" + text + "'");
    }
    builder.add(row.fields[image_col], {}, row.line, label);
  }
  return builder.finish();
}

PairDataset read_image_csv(const std::string& path, const std::string& image_key, char separator) {
  const CsvTable table = read_csv(path, separator);
  const int image_col = table.column(image_key);
  if (!table.bad_rows.empty()) {
    const auto& bad = table.bad_rows.front();
    throw DataError(path + ":" + std::to_string(bad.line) + ": " + bad.reason);
  }
  PairBuilder builder(path, "");
  for (const auto& row : table.rows) builder.add(row.fields[image_col], {}, row.line);
  auto dataset = builder.finish();
  if (!dataset.bad.empty()) throw DataError(dataset.bad.front().where + ": " + dataset.bad.front().reason);
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
