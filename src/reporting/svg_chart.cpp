#include "svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace mmtrain {

namespace {

// Drawing units of the viewBox; the page scales the chart to its column with CSS.
constexpr double kWidth = 560, kHeight = 260;
constexpr double kLeft = 64, kRight = 18, kTop = 34, kBottom = 42;
// Beyond this many points the markers would merge into a thick line, so only the line is drawn.
constexpr size_t kMaxMarkers = 40;

struct Axis {
  double lo, hi, step;
  double span() const { return hi - lo; }
};

struct Frame {
  Axis x, y;
  double x_px(double value) const { return kLeft + (value - x.lo) / x.span() * (kWidth - kLeft - kRight); }
  double y_px(double value) const {
    return kHeight - kBottom - (value - y.lo) / y.span() * (kHeight - kTop - kBottom);
  }
};

std::string printf_string(const char* format, double value, int precision = -1) {
  char buffer[64];
  if (precision < 0) {
    std::snprintf(buffer, sizeof(buffer), format, value);
  } else {
    std::snprintf(buffer, sizeof(buffer), format, precision, value);
  }
  return buffer;
}

std::string px(double value) { return printf_string("%.1f", value); }

int decimal_exponent(double value) { return static_cast<int>(std::floor(std::log10(value) + 1e-9)); }

// Ticks at 1, 2 or 5 times a power of ten, about five of them: labels people can read at a glance.
Axis nice_axis(double lo, double hi, double min_step) {
  if (hi - lo <= 1e-12 * std::max(1.0, std::abs(lo))) {
    // A single value (or a flat line) still needs a span to sit in the middle of.
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / 5;
  const double magnitude = std::pow(10.0, decimal_exponent(raw));
  const double fraction = raw / magnitude;
  const double unit = fraction < 1.5 ? 1 : fraction < 3.5 ? 2 : fraction < 7.5 ? 5 : 10;
  const double step = std::max(unit * magnitude, min_step);
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

std::vector<double> ticks(const Axis& axis) {
  std::vector<double> values;
  const auto count = static_cast<int>(std::lround(axis.span() / axis.step));
  for (int i = 0; i <= count; ++i) {
    const double value = axis.lo + i * axis.step;
    values.push_back(std::abs(value) < axis.step * 1e-6 ? 0.0 : value);  // no "-0.00" labels
  }
  return values;
}

// As many decimals as the tick step needs, so neighbouring labels differ and never show noise.
std::string format_tick(double value, double step) {
  const int decimals = std::max(0, -decimal_exponent(step));
  if (decimals > 5 || std::abs(value) >= 1e7) return printf_string("%.3g", value);
  return printf_string("%.*f", value, decimals);
}

ChartPoints finite_points(const ChartPoints& points) {
  ChartPoints finite;
  for (const auto& point : points) {
    if (std::isfinite(point.second)) finite.push_back(point);
  }
  return finite;
}

Frame frame_for(const ChartPoints& finite) {
  if (finite.empty()) return {nice_axis(0, 1, 1), nice_axis(0, 1, 0)};
  const auto [x_min, x_max] = std::minmax_element(finite.begin(), finite.end());
  const auto [y_min, y_max] = std::minmax_element(
      finite.begin(), finite.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  // Steps are whole numbers: a tick between them would be a label for nothing.
  return {nice_axis(static_cast<double>(x_min->first), static_cast<double>(x_max->first), 1.0),
          nice_axis(y_min->second, y_max->second, 0.0)};
}

std::string text(double x, double y, const std::string& anchor, const std::string& attributes,
                 const std::string& content) {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\" " + attributes + ">" +
         escape_html(content) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const std::string& stroke) {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) +
         "\" stroke=\"" + stroke + "\" stroke-width=\"1\"/>\n";
}

std::string y_grid(const Frame& frame) {
  std::string svg;
  for (const double value : ticks(frame.y)) {
    const double y = frame.y_px(value);
    svg += line(kLeft, y, kWidth - kRight, y, "#e5e7eb");
    svg += text(kLeft - 6, y + 4, "end", "font-size=\"11\" fill=\"#4b5563\"", format_tick(value, frame.y.step));
  }
  return svg;
}

std::string x_ticks(const Frame& frame) {
  std::string svg;
  const double bottom = kHeight - kBottom;
  for (const double value : ticks(frame.x)) {
    const double x = frame.x_px(value);
    svg += line(x, bottom, x, bottom + 4, "#6b7280");
    svg += text(x, bottom + 16, "middle", "font-size=\"11\" fill=\"#4b5563\"", format_tick(value, frame.x.step));
  }
  return svg;
}

std::string axes(const Frame& frame) {
  const double bottom = kHeight - kBottom;
  return y_grid(frame) + x_ticks(frame) + line(kLeft, kTop, kLeft, bottom, "#6b7280") +
         line(kLeft, bottom, kWidth - kRight, bottom, "#6b7280") +
         text((kLeft + kWidth - kRight) / 2, kHeight - 6, "middle", "font-size=\"11\" fill=\"#4b5563\"", "step");
}

std::string data_path(const Frame& frame, const ChartPoints& finite, const std::string& color) {
  std::string d;
  for (const auto& [step, value] : finite) {
    d += (d.empty() ? "M" : " L") + px(frame.x_px(static_cast<double>(step))) + "," + px(frame.y_px(value));
  }
  return "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + escape_html(color) +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n";
}

// Few points (evals, short runs) get markers with a hover title; a lone point would be invisible otherwise.
std::string markers(const Frame& frame, const ChartPoints& finite, const std::string& color) {
  if (finite.size() > kMaxMarkers) return "";
  std::string svg;
  for (const auto& [step, value] : finite) {
    svg += "<circle cx=\"" + px(frame.x_px(static_cast<double>(step))) + "\" cy=\"" + px(frame.y_px(value)) +
           "\" r=\"3.5\" fill=\"" + escape_html(color) + "\"><title>step " + std::to_string(step) + ": " +
           format_number(value) + "</title></circle>\n";
  }
  return svg;
}

std::string header_note(const ChartPoints& points, size_t finite_count) {
  if (points.empty()) return "no values";
  std::string note = "last " + format_number(points.back().second);
  const size_t skipped = points.size() - finite_count;
  if (skipped > 0) note += " \xC2\xB7 " + std::to_string(skipped) + " non-finite not drawn";
  return note;
}

}  // namespace

std::string escape_html(const std::string& text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&#39;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  const double magnitude = std::abs(value);
  if (value == 0 || magnitude < 1e-3 || magnitude >= 1e7) return printf_string("%.4g", value);
  const int decimals = std::max(0, 3 - decimal_exponent(magnitude));
  std::string fixed = printf_string("%.*f", value, decimals);
  if (fixed.find('.') != std::string::npos) {
    fixed.erase(fixed.find_last_not_of('0') + 1);
    if (fixed.back() == '.') fixed.pop_back();
  }
  return fixed;
}

std::string render_line_chart(const std::string& metric, const ChartPoints& points, const std::string& color) {
  const ChartPoints finite = finite_points(points);
  const Frame frame = frame_for(finite);
  const std::string name = escape_html(metric);
  std::ostringstream svg;
  svg << "<svg class=\"chart\" data-metric=\"" << name << "\" viewBox=\"0 0 " << kWidth << " " << kHeight
      << "\" width=\"" << kWidth << "\" height=\"" << kHeight << "\" role=\"img\" aria-label=\"" << name
      << " against step\">\n"
      << text(kLeft, 20, "start", "font-size=\"14\" font-weight=\"600\" fill=\"#111827\"", metric)
      << text(kWidth - kRight, 20, "end", "font-size=\"11\" fill=\"#6b7280\"", header_note(points, finite.size()))
      << axes(frame);
  if (finite.empty()) {
    svg << text((kLeft + kWidth - kRight) / 2, kHeight / 2, "middle", "font-size=\"13\" fill=\"#9ca3af\"",
                "no finite values");
  } else {
    svg << data_path(frame, finite, color) << markers(frame, finite, color);
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace mmtrain
