#include "mmtrain/reporting/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "mmtrain/errors.h"
#include "mmtrain/io/write_file.h"
#include "report_samples.h"
#include "svg_chart.h"

namespace mmtrain {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// metric -> step -> value. A step logged twice (the eval at a resume step) keeps the later value.
using SeriesByMetric = std::map<std::string, std::map<int64_t, double>>;

struct BadCount {
  int64_t step = 0;
  double count = 0;
};

struct RunRecords {
  SeriesByMetric train, eval;
  json last_train, last_eval;  // null until seen
  // kind -> newest count: data records carry running totals, like skipped_nonfinite does.
  std::map<std::string, BadCount> bad;
  size_t records = 0, unreadable_lines = 0;
  double first_time = std::numeric_limits<double>::quiet_NaN();
  double last_time = std::numeric_limits<double>::quiet_NaN();
};

// Bookkeeping fields of train and eval records: numbers, but not metrics worth a chart.
const std::set<std::string> kNotMetrics = {"kind", "step", "time", "epoch", "skipped_nonfinite"};

const char* const kNotLogged = "\xE2\x80\x93";  // an en dash

const std::vector<std::string> kPalette = {"#2563eb", "#dc2626", "#059669", "#d97706",
                                           "#7c3aed", "#0891b2", "#db2777", "#4d7c0f"};

// ---- reading metrics.jsonl ------------------------------------------------------------------

// Python's json module writes NaN and ±Infinity, which are not JSON. Quoted they parse, and
// metric_value() reads them back as the non-finite values they were.
std::string quote_nonfinite_literals(const std::string& line) {
  static const std::string kLiterals[] = {"-Infinity", "Infinity", "NaN"};
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < line.size()) out += line[++i];
      if (c == '"') in_string = false;
      continue;
    }
    in_string = c == '"';
    const auto* literal = std::find_if(std::begin(kLiterals), std::end(kLiterals), [&](const std::string& name) {
      return line.compare(i, name.size(), name) == 0;
    });
    if (literal == std::end(kLiterals)) {
      out += c;
    } else {
      out += '"' + *literal + '"';
      i += literal->size() - 1;
    }
  }
  return out;
}

json parse_record(const std::string& line) {
  json record = json::parse(line, nullptr, false);
  if (record.is_discarded()) record = json::parse(quote_nonfinite_literals(line), nullptr, false);
  return record;
}

// nlohmann writes NaN and inf as null, so null in a metric field is a non-finite value; Python's
// literals arrive as strings (quote_nonfinite_literals).
std::optional<double> metric_value(const json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  if (text == "Infinity" || text == "-Infinity") return text[0] == '-' ? -kInfinity : kInfinity;
  return std::nullopt;
}

std::optional<double> number_field(const json& record, const std::string& key) {
  if (!record.is_object()) return std::nullopt;
  const auto it = record.find(key);
  if (it == record.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string string_field(const json& record, const std::string& key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : "";
}

void add_series(SeriesByMetric& series, const json& record, int64_t step) {
  for (const auto& [key, value] : record.items()) {
    if (kNotMetrics.count(key) > 0) continue;
    if (const auto number = metric_value(value)) series[key][step] = *number;
  }
}

void add_bad_counts(std::map<std::string, BadCount>& bad, const json& record, int64_t step) {
  for (const auto& [key, value] : record.items()) {
    if (key.rfind("bad/", 0) == 0 && value.is_number()) bad[key.substr(4)] = {step, value.get<double>()};
  }
}

void add_time(RunRecords& run, const json& record) {
  const auto time = number_field(record, "time");
  if (!time) return;
  run.first_time = std::isnan(run.first_time) ? *time : std::min(run.first_time, *time);
  run.last_time = std::isnan(run.last_time) ? *time : std::max(run.last_time, *time);
}

void add_record(RunRecords& run, const json& record) {
  ++run.records;
  add_time(run, record);
  const auto step_value = number_field(record, "step");
  if (!step_value) return;
  const auto step = static_cast<int64_t>(*step_value);
  const std::string kind = string_field(record, "kind");
  if (kind == "train") {
    add_series(run.train, record, step);
    run.last_train = record;
  } else if (kind == "eval") {
    add_series(run.eval, record, step);
    run.last_eval = record;
  } else if (kind == "data") {
    add_bad_counts(run.bad, record, step);
  }
}

RunRecords read_metrics(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path.string() + ": cannot read");
  RunRecords run;
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json record = parse_record(line);
    if (record.is_object()) {
      add_record(run, record);
    } else {
      ++run.unreadable_lines;  // a torn last line while the run is writing, or after a crash
    }
  }
  return run;
}

// ---- ordering and formatting ----------------------------------------------------------------

// The order people read a run in: the loss first, then what explains it, then eval headlines.
size_t metric_group(const std::string& name) {
  static const std::vector<std::string> kOrder = {"loss",          "loss/",          "lr",        "logit_scale",
                                                  "samples_per_s", "data_wait_frac", "zeroshot/", "retrieval/"};
  for (size_t i = 0; i < kOrder.size(); ++i) {
    const std::string& key = kOrder[i];
    if (key.back() == '/' ? name.rfind(key, 0) == 0 : name == key) return i;
  }
  return kOrder.size();
}

size_t digits_end(const std::string& text, size_t from) {
  while (from < text.size() && std::isdigit(static_cast<unsigned char>(text[from]))) ++from;
  return from;
}

// Numbers inside names compare as numbers, so R@5 comes before R@10.
bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      const size_t i_end = digits_end(a, i), j_end = digits_end(b, j);
      const std::string x = a.substr(i, i_end - i), y = b.substr(j, j_end - j);
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

bool metric_before(const std::string& a, const std::string& b) {
  const size_t group_a = metric_group(a), group_b = metric_group(b);
  return group_a != group_b ? group_a < group_b : natural_less(a, b);
}

template <typename Map>
std::vector<std::string> ordered_names(const Map& by_name) {
  std::vector<std::string> names;
  for (const auto& entry : by_name) names.push_back(entry.first);
  std::sort(names.begin(), names.end(), metric_before);
  return names;
}

// The newest value by step: a sparse last record (a diverged step that logged only the loss) must
// not blank out the other cards.
std::string latest_text(const SeriesByMetric& series, const std::string& metric) {
  const auto it = series.find(metric);
  if (it == series.end() || it->second.empty()) return kNotLogged;
  return format_number(it->second.rbegin()->second);
}

std::string field_text(const json& record, const std::string& key) {
  if (!record.is_object() || !record.contains(key)) return kNotLogged;
  const auto value = metric_value(record.at(key));
  return value ? format_number(*value) : record.at(key).dump();
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds)) return kNotLogged;
  const auto total = static_cast<long long>(std::llround(seconds));
  const long long hours = total / 3600, minutes = total / 60 % 60, secs = total % 60;
  char buffer[48];
  if (hours > 0) {
    std::snprintf(buffer, sizeof(buffer), "%lldh %02lldm", hours, minutes);
  } else if (minutes > 0) {
    std::snprintf(buffer, sizeof(buffer), "%lldm %02llds", minutes, secs);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%llds", secs);
  }
  return buffer;
}

std::string format_utc(double unix_seconds) {
  if (!std::isfinite(unix_seconds)) return "unknown";
  const auto seconds = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return buffer;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The folder's own name, also for "runs/demo/" and ".".
std::string run_name(const fs::path& dir) {
  fs::path normal = fs::absolute(dir).lexically_normal();
  if (!normal.has_filename()) normal = normal.parent_path();
  return normal.filename().string();
}

// ---- HTML -----------------------------------------------------------------------------------

const char* const kStyle = R"(
:root { color-scheme: light; }
body { margin: 0; background: #f3f4f6; color: #111827;
       font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1160px; margin: 0 auto; padding: 24px; }
h1 { margin: 0; font-size: 26px; }
h2 { margin: 0 0 12px; font-size: 18px; }
h3 { margin: 16px 0 8px; font-size: 15px; }
.path { color: #6b7280; font: 12px ui-monospace, "DejaVu Sans Mono", monospace; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 18px; min-width: 110px; }
.card .label { color: #6b7280; font-size: 12px; }
.card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px 20px; margin-top: 20px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 12px 20px; }
svg.chart { width: 100%; height: auto; display: block; font-family: inherit; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 24px 4px 0; text-align: left; border-bottom: 1px solid #f3f4f6; }
th { color: #6b7280; font-weight: 500; font-size: 12px; }
td.num { text-align: right; }
pre { background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 6px; padding: 12px; margin: 0;
      overflow-x: auto; font: 12px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
.empty { color: #6b7280; font-style: italic; margin: 0; }
footer { color: #9ca3af; font-size: 12px; margin-top: 16px; }
.samples { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 14px; }
.samples figure { margin: 0; }
.samples img { width: 128px; height: 128px; image-rendering: pixelated; border-radius: 4px; display: block; }
.samples .generated { font-weight: 600; }
.samples .question { font-style: italic; }
.samples .reference { color: #6b7280; font-size: 12px; }
.samples.strips { grid-template-columns: 1fr; }
.samples.strips img { width: 100%; height: auto; max-width: 1000px; }
)";

std::string card(const std::string& label, const std::string& value) {
  return "<div class=\"card\"><div class=\"label\">" + escape_html(label) + "</div><div class=\"value\">" +
         escape_html(value) + "</div></div>\n";
}

std::string summary_cards(const RunRecords& run) {
  std::string html = "<div class=\"cards\">\n";
  html += card("step", field_text(run.last_train, "step"));
  html += card("last loss", latest_text(run.train, "loss"));
  html += card("samples/s", latest_text(run.train, "samples_per_s"));
  if (!run.eval.empty()) {
    const std::string headline = ordered_names(run.eval).front();
    html += card(headline, latest_text(run.eval, headline));
  }
  html += card("wall time", format_duration(run.last_time - run.first_time));
  if (number_field(run.last_train, "skipped_nonfinite").value_or(0) > 0) {
    html += card("skipped non-finite steps", field_text(run.last_train, "skipped_nonfinite"));
  }
  return html + "</div>\n";
}

std::string page_header(const fs::path& dir, const RunRecords& run) {
  return "<header>\n<h1>" + escape_html(run_name(dir)) + "</h1>\n<div class=\"path\">" +
         escape_html(fs::absolute(dir).lexically_normal().string()) + "</div>\n" + summary_cards(run) + "</header>\n";
}

ChartPoints chart_points(const std::map<int64_t, double>& by_step) {
  return ChartPoints(by_step.begin(), by_step.end());
}

std::string chart_grid(const SeriesByMetric& series, size_t first_colour) {
  std::string html = "<div class=\"grid\">\n";
  size_t colour = first_colour;
  for (const auto& name : ordered_names(series)) {
    html += render_line_chart(name, chart_points(series.at(name)), kPalette[colour++ % kPalette.size()]);
  }
  return html + "</div>\n";
}

using TableRows = std::vector<std::pair<std::string, std::string>>;

std::string table(const TableRows& rows, const std::string& name_header, const std::string& value_header) {
  std::string html = "<table>\n<tr><th>" + escape_html(name_header) + "</th><th>" + escape_html(value_header) +
                     "</th></tr>\n";
  for (const auto& [name, value] : rows) {
    html += "<tr><td>" + escape_html(name) + "</td><td class=\"num\">" + escape_html(value) + "</td></tr>\n";
  }
  return html + "</table>\n";
}

std::string train_section(const RunRecords& run) {
  const std::string body =
      run.train.empty() ? "<p class=\"empty\">No train records yet.</p>\n" : chart_grid(run.train, 0);
  return "<section id=\"train\">\n<h2>Training</h2>\n" + body + "</section>\n";
}

std::string final_eval_table(const RunRecords& run) {
  TableRows rows;
  for (const auto& [key, value] : run.last_eval.items()) {
    if (kNotMetrics.count(key) > 0) continue;
    if (const auto number = metric_value(value)) rows.emplace_back(key, format_number(*number));
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return metric_before(a.first, b.first); });
  const std::string checkpoint = string_field(run.last_eval, "checkpoint");
  return "<h3>Final eval at step " + escape_html(field_text(run.last_eval, "step")) + "</h3>\n" +
         (checkpoint.empty() ? "" : "<div class=\"path\">" + escape_html(checkpoint) + "</div>\n") +
         table(rows, "metric", "value");
}

std::string eval_section(const RunRecords& run) {
  std::string body = "<p class=\"empty\">No eval records.</p>\n";
  if (!run.eval.empty()) {
    body = final_eval_table(run) + "<h3>Over training</h3>\n" + chart_grid(run.eval, run.train.size());
  }
  return "<section id=\"eval\">\n<h2>Evaluation</h2>\n" + body + "</section>\n";
}

std::string bad_samples_section(const RunRecords& run) {
  std::string body = "<p class=\"empty\">none recorded</p>\n";
  if (!run.bad.empty()) {
    TableRows rows;
    for (const auto& kind : ordered_names(run.bad)) {
      const BadCount& bad = run.bad.at(kind);
      rows.emplace_back("bad/" + kind, format_number(bad.count) + " (step " + std::to_string(bad.step) + ")");
    }
    body = table(rows, "counter", "count");
  }
  return "<section id=\"data\">\n<h2>Bad samples</h2>\n" + body + "</section>\n";
}

std::string config_section(const fs::path& dir) {
  const fs::path path = dir / "config.yaml";
  const std::string body = fs::is_regular_file(path)
                               ? "<pre>" + escape_html(read_text(path)) + "</pre>\n"
                               : "<p class=\"empty\">config.yaml not found</p>\n";
  return "<section id=\"config\">\n<h2>Config</h2>\n" + body + "</section>\n";
}

std::string page_footer(const RunRecords& run) {
  std::string text = "From metrics.jsonl: " + std::to_string(run.records) + " records, last at " +
                     format_utc(run.last_time);
  if (run.unreadable_lines > 0) text += "; " + std::to_string(run.unreadable_lines) + " unreadable line(s) skipped";
  return "<footer>" + escape_html(text) + ". Written by mmtrain report.</footer>\n";
}

void require_run_files(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw DataError(dir.string() + ": no such run folder");
  const fs::path metrics = dir / "metrics.jsonl";
  if (!fs::is_regular_file(metrics)) throw DataError(metrics.string() + ": not found (is this a run folder?)");
}

}  // namespace

std::string render_report(const std::string& run_dir) {
  const fs::path dir(run_dir);
  require_run_files(dir);
  const RunRecords run = read_metrics(dir / "metrics.jsonl");
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         escape_html(run_name(dir)) + " \xC2\xB7 mmtrain report</title>\n<style>" + kStyle +
         "</style>\n</head>\n<body>\n<main>\n" + page_header(dir, run) + train_section(run) + eval_section(run) +
         caption_samples_section(dir) + answer_samples_section(dir) + rollout_samples_section(dir) + bad_samples_section(run) + config_section(dir) + page_footer(run) + "</main>\n</body>\n</html>\n";
}

std::string write_report(const std::string& run_dir) {
  const std::string html = render_report(run_dir);
  const fs::path path = fs::path(run_dir) / "report.html";
  write_file_atomically(path.string(), html);
  return path.string();
}

}  // namespace mmtrain
