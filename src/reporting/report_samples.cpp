#include "report_samples.h"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "svg_chart.h"

namespace mmtrain {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string media_type(const fs::path& path) {
  std::string extension = path.extension().string();
  for (auto& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (extension == ".png") return "image/png";
  if (extension == ".jpg" || extension == ".jpeg") return "image/jpeg";
  if (extension == ".webp") return "image/webp";
  return "application/octet-stream";
}

// The image inline, so the page stays self-contained; a missing file shows its path instead.
std::string embedded_image(const std::string& path) {
  const std::string bytes = read_bytes(path);
  if (bytes.empty()) return "<div class=\"path\">" + escape_html(path) + " (not found)</div>";
  return "<img alt=\"\" src=\"data:" + media_type(path) + ";base64," + base64(bytes) + "\">";
}

std::string references_of(const json& sample) {
  std::string references;
  for (const auto& reference : sample.value("references", json::array())) {
    if (reference.is_string()) references += "<div class=\"reference\">" + escape_html(reference.get<std::string>()) + "</div>";
  }
  return references;
}

std::string caption_figure(const json& sample) {
  return "<figure>" + embedded_image(sample.value("image", "")) + "<figcaption><div class=\"generated\">" +
         escape_html(sample.value("caption", "")) + "</div>" + references_of(sample) + "</figcaption></figure>\n";
}

// The question, the answer in bold marked right (any credit) or wrong, the reference answers.
std::string answer_figure(const json& sample) {
  const bool right = sample.value("accuracy", 0.0) > 0.0;
  return "<figure>" + embedded_image(sample.value("image", "")) + "<figcaption><div class=\"question\">" +
         escape_html(sample.value("question", "")) + "</div><div class=\"generated\">" +
         escape_html(sample.value("answer", "")) + (right ? " &#10003;" : " &#10007;") + "</div>" +
         references_of(sample) + "</figcaption></figure>\n";
}

// One rollout: its frame strip, the instruction, and the outcome.
std::string rollout_figure(const json& sample) {
  const bool success = sample.value("success", false);
  return "<figure>" + embedded_image(sample.value("image", "")) + "<figcaption><div class=\"question\">" +
         escape_html(sample.value("instruction", "")) + "</div><div class=\"generated\">" +
         (success ? "&#10003; success in " : "&#10007; failed after ") + std::to_string(sample.value("steps", 0)) +
         " steps</div><div class=\"reference\">" + escape_html(sample.value("split", "")) + " split, " +
         escape_html(sample.value("task", "")) + "</div></figcaption></figure>\n";
}

// A section of the figures of `file` (one JSON object per line, with its step when training wrote
// it), "" without it.
std::string samples_section(const fs::path& run_dir, const std::string& file, const std::string& id,
                            const std::string& heading, const std::string& note,
                            std::string (*figure)(const json&), const std::string& grid = "samples") {
  std::ifstream in(run_dir / file);
  if (!in) return "";
  std::string figures;
  int64_t step = -1;
  for (std::string line; std::getline(in, line);) {
    const json sample = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!sample.is_object()) continue;  // a torn line
    step = sample.value("step", step);
    figures += figure(sample);
  }
  if (figures.empty()) return "";
  const std::string when = step >= 0 ? "at step " + std::to_string(step) + ": " : "";
  return "<section id=\"" + id + "\">\n<h2>" + heading + "</h2>\n<p class=\"path\">" + when + note +
         "</p>\n<div class=\"" + grid + "\">\n" + figures + "</div>\n</section>\n";
}

}  // namespace

std::string base64(const std::string& bytes) {
  static const char* const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t chunk = 0;
    for (size_t k = 0; k < 3; ++k) chunk = (chunk << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kAlphabet[(chunk >> (18 - 6 * k)) & 63] : '=';
  }
  return out;
}

std::string caption_samples_section(const fs::path& run_dir) {
  return samples_section(run_dir, "captions.jsonl", "samples", "Sample captions",
                         "generated captions in bold, the references below", caption_figure);
}

std::string answer_samples_section(const fs::path& run_dir) {
  return samples_section(run_dir, "answers.jsonl", "answers", "Sample answers",
                         "each question, the model's answer in bold (&#10003; right, &#10007; wrong), the "
                         "reference answers below",
                         answer_figure);
}

std::string rollout_samples_section(const fs::path& run_dir) {
  return samples_section(run_dir, "rollouts/rollouts.jsonl", "rollouts", "Rollouts",
                         "the policy closed loop in the simulator, frames left to right (green border: success, red: "
                         "failure)",
                         rollout_figure, "samples strips");
}

}  // namespace mmtrain
