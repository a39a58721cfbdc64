#include "mmtrain/reporting/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "mmtrain/errors.h"
#include "support/reference_data.h"
#include "support/temp_dir.h"

namespace mmtrain {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

const std::vector<std::string> kTrainMetrics = {"loss",        "loss/clip",     "loss/siglip",   "lr",
                                                "logit_scale", "samples_per_s", "data_wait_frac"};
// retrieval/image_to_text_R@1_rerank is only in the last eval: a chart with a single point.
const std::vector<std::string> kEvalMetrics = {"zeroshot/top1", "zeroshot/top5", "retrieval/image_to_text_R@1",
                                               "retrieval/text_to_image_R@1", "retrieval/image_to_text_R@1_rerank"};

std::string train_line(int step) {
  nlohmann::json record = {{"kind", "train"},
                           {"step", step},
                           {"time", 1.7e9 + step},
                           {"epoch", 1 + step / 20},
                           {"loss", 3.0 * std::exp(-step / 20.0) + 0.4},
                           {"loss/clip", 2.0 * std::exp(-step / 20.0) + 0.3},
                           {"loss/siglip", std::exp(-step / 15.0) + 0.1},
                           {"lr", 5e-4 * std::min(1.0, step / 10.0)},
                           {"logit_scale", 14.3 + step * 0.2},
                           {"samples_per_s", 400.0 + (step % 7) * 5},
                           {"data_wait_frac", 0.01 + (step % 5) * 0.002},
                           {"skipped_nonfinite", 0}};
  // nlohmann writes a NaN as null: the report must skip it, not stop.
  if (step == 20) record["loss/siglip"] = std::numeric_limits<double>::quiet_NaN();
  return record.dump() + "\n";
}

std::string eval_line(int step) {
  nlohmann::json record = {{"kind", "eval"},
                           {"step", step},
                           {"time", 1.7e9 + step + 0.5},
                           {"zeroshot/top1", step / 60.0},
                           {"zeroshot/top5", step / 55.0},
                           {"retrieval/image_to_text_R@1", step / 80.0},
                           {"retrieval/text_to_image_R@1", step / 90.0}};
  if (step == 50) record["retrieval/image_to_text_R@1_rerank"] = 0.7;
  return record.dump() + "\n";
}

std::string train_lines() {
  std::string lines;
  for (int step = 1; step <= 50; ++step) lines += train_line(step);
  return lines;
}

// Steps 1..50 of training, evals at 25 and 50, bad samples, a diverged step 51 as Python's json
// writes it (NaN, Infinity), and the torn last line of a run that is still writing.
std::string full_metrics() {
  std::string lines = train_lines() + eval_line(25) + eval_line(50);
  lines += R"({"kind":"data","step":40,"time":1700000040,"bad/missing":3,"bad/corrupt":1})" "\n";
  lines += R"({"kind":"event","event":"checkpoint","step":50,"time":1700000050})" "\n";
  lines += R"({"kind":"train","step":51,"time":1700000051,"loss":NaN,"lr":Infinity})" "\n";
  return lines + R"({"kind":"train","step":52,"loss":0.5,"lr":0.00)";
}

const char* const kConfig = "run: {name: <b>demo</b> & co, seed: 0}\ntrain: {steps: 50}\n";

void write_run(const TempDir& dir, const std::string& metrics) {
  dir.write("metrics.jsonl", metrics);
  dir.write("config.yaml", kConfig);
}

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

std::vector<std::string> all_metrics() {
  std::vector<std::string> metrics = kTrainMetrics;
  metrics.insert(metrics.end(), kEvalMetrics.begin(), kEvalMetrics.end());
  return metrics;
}

void expect_one_chart_per_metric(const std::string& html, const std::vector<std::string>& metrics) {
  EXPECT_EQ(count_occurrences(html, "class=\"chart\""), metrics.size());
  for (const auto& metric : metrics) {
    EXPECT_EQ(count_occurrences(html, "data-metric=\"" + metric + "\""), 1u) << metric;
  }
}

TEST(ReportHtml, HasOneChartPerTrainAndEvalMetric) {
  TempDir dir;
  write_run(dir, full_metrics());
  const std::string html = render_report(dir.path().string());
  expect_one_chart_per_metric(html, all_metrics());
  // Bookkeeping fields are numbers too, but not metrics.
  EXPECT_EQ(html.find("data-metric=\"epoch\""), std::string::npos);
  EXPECT_EQ(html.find("data-metric=\"skipped_nonfinite\""), std::string::npos);
}

TEST(ReportHtml, ReferencesNothingOutsideTheFile) {
  TempDir dir;
  write_run(dir, full_metrics());
  const std::string html = render_report(dir.path().string());
  for (const char* external : {"http://", "https://", "<script src", "<link", "url("}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
}

TEST(ReportHtml, EscapesTheConfig) {
  TempDir dir;
  write_run(dir, full_metrics());
  const std::string html = render_report(dir.path().string());
  EXPECT_NE(html.find("&lt;b&gt;demo&lt;/b&gt; &amp; co"), std::string::npos);
  EXPECT_EQ(html.find("<b>demo"), std::string::npos);
}

TEST(ReportHtml, ShowsSummaryFinalEvalBadSamplesAndSkippedLines) {
  TempDir dir;
  write_run(dir, full_metrics());
  const std::string html = render_report(dir.path().string());
  EXPECT_NE(html.find("Final eval at step 50"), std::string::npos);
  EXPECT_NE(html.find("bad/missing"), std::string::npos);
  EXPECT_NE(html.find("bad/corrupt"), std::string::npos);
  EXPECT_EQ(html.find("none recorded"), std::string::npos);
  EXPECT_NE(html.find("1 unreadable line(s) skipped"), std::string::npos);  // the torn last line
  // Step 51 diverged: its values are reported, and left out of the drawing.
  EXPECT_NE(html.find("<div class=\"label\">last loss</div><div class=\"value\">nan</div>"), std::string::npos);
  EXPECT_NE(html.find("last inf \xC2\xB7 1 non-finite not drawn"), std::string::npos);
  // Step 51 logged no throughput: the card shows step 50's rather than nothing.
  EXPECT_NE(html.find("<div class=\"label\">samples/s</div><div class=\"value\">405</div>"), std::string::npos);
}

TEST(ReportHtml, WithoutEvalOrDataRecordsSaysSo) {
  TempDir dir;
  write_run(dir, train_lines());
  const std::string html = render_report(dir.path().string());
  expect_one_chart_per_metric(html, kTrainMetrics);
  EXPECT_NE(html.find("No eval records"), std::string::npos);
  EXPECT_NE(html.find("none recorded"), std::string::npos);
}

TEST(ReportHtml, MissingMetricsOrFolderIsADataErrorNamingThePath) {
  TempDir dir;
  dir.write("config.yaml", kConfig);
  const std::string metrics = (dir.path() / "metrics.jsonl").string();
  try {
    render_report(dir.path().string());
    FAIL() << "expected DataError";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find(metrics), std::string::npos) << error.what();
  }
  const std::string missing = (dir.path() / "no_such_run").string();
  try {
    render_report(missing);
    FAIL() << "expected DataError";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
  }
}

TEST(ReportHtml, WriteReportReplacesReportHtmlAndLeavesNoTempFile) {
  TempDir dir;
  write_run(dir, full_metrics());
  dir.write("report.html", "stale");
  const std::string path = write_report(dir.path().string());
  EXPECT_EQ(fs::path(path), dir.path() / "report.html");
  EXPECT_EQ(test::read_bytes(path), render_report(dir.path().string()));
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

// ---- the report in a real browser -----------------------------------------------------------

const char* const kChromium = "/usr/bin/chromium";

// Chromium's own stderr chatter (dbus, GPU) is noise here, so only stdout is kept.
std::string run_capturing_stdout(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
  pclose(pipe);
  return output;
}

// A fresh profile per call, so no state from an earlier run (or a user's profile) changes the page.
std::string run_chromium(const TempDir& work, const std::string& profile, const std::string& action,
                         const std::string& report) {
  const std::string command = std::string("timeout 60 ") + kChromium +
                              " --headless --no-sandbox --disable-gpu --no-first-run"
                              " --disable-background-networking --disable-component-update --disable-sync"
                              " --user-data-dir='" + (work.path() / profile).string() +
                              "' --window-size=1200,2000 " + action + " 'file://" + report + "'";
  return run_capturing_stdout(command);
}

template <typename Predicate>
double fraction_of_pixels(const cv::Mat& image, Predicate predicate) {
  size_t matching = 0;
  for (int row = 0; row < image.rows; ++row) {
    for (int col = 0; col < image.cols; ++col) matching += predicate(image.at<cv::Vec3b>(row, col)) ? 1 : 0;
  }
  return static_cast<double>(matching) / static_cast<double>(image.total());
}

// Colours covering at least `min_share` of the image: anti-aliasing adds many rare ones.
size_t common_colours(const cv::Mat& image, double min_share) {
  std::map<uint32_t, size_t> counts;
  for (int row = 0; row < image.rows; ++row) {
    for (int col = 0; col < image.cols; ++col) {
      const cv::Vec3b pixel = image.at<cv::Vec3b>(row, col);
      ++counts[(uint32_t{pixel[0]} << 16) | (uint32_t{pixel[1]} << 8) | pixel[2]];
    }
  }
  size_t common = 0;
  for (const auto& entry : counts) common += entry.second >= min_share * static_cast<double>(image.total()) ? 1 : 0;
  return common;
}

TEST(ReportInChromium, RendersChartsNotABlankPage) {
  if (!fs::exists(kChromium)) {
    if (test::running_in_ci()) FAIL() << "CI=true but " << kChromium << " is missing (scripts/setup.sh installs it)";
    GTEST_SKIP() << kChromium << " is absent: install chromium (scripts/setup.sh) to check that report.html renders";
  }
  TempDir run, work;
  write_run(run, full_metrics());
  const std::string report = write_report(run.path().string());
  const std::string shot = (work.path() / "shot.png").string();
  run_chromium(work, "profile_shot", "--screenshot='" + shot + "'", report);
  const std::string dom = run_chromium(work, "profile_dom", "--dump-dom", report);

  const cv::Mat image = cv::imread(shot, cv::IMREAD_COLOR);
  ASSERT_FALSE(image.empty()) << "chromium wrote no readable screenshot at " << shot;
  const double not_white = fraction_of_pixels(image, [](const cv::Vec3b& p) {
    return p[0] < 235 || p[1] < 235 || p[2] < 235;  // the page's light grey counts as white
  });
  const double saturated = fraction_of_pixels(image, [](const cv::Vec3b& p) {
    return std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]}) > 80;  // chart lines, not grey text
  });
  EXPECT_GT(not_white, 0.02);
  EXPECT_GT(saturated, 0.001);
  EXPECT_GE(common_colours(image, 0.0005), 3u);
  expect_one_chart_per_metric(dom, all_metrics());
}

}  // namespace
}  // namespace mmtrain
