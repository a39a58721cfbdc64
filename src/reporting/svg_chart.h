// Inline SVG line charts for the HTML run report: no scripts, fonts or external references, so
// report.html stays one self-contained file that any browser (or a headless one in tests) draws.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mmtrain {

// (step, value); non-finite values are allowed and are left out of the drawing (and counted).
using ChartPoints = std::vector<std::pair<int64_t, double>>;

// `<svg class="chart" data-metric="METRIC">` with axes, ticks, tick labels and the line in `color`
// (any CSS colour). Points are drawn in the given order, so callers pass them sorted by step.
std::string render_line_chart(const std::string& metric, const ChartPoints& points, const std::string& color);

// Escapes &, <, >, " and ' so that any text is safe in element content and attribute values.
std::string escape_html(const std::string& text);

// A value for people: 4 significant digits, no exponent for everyday magnitudes.
std::string format_number(double value);

}  // namespace mmtrain
