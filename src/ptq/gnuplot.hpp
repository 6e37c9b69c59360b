#pragma once

// Charts for the analysis report, drawn by gnuplot (Debian's gnuplot-nox): one
// gnuplot process renders every chart of a report, each to its own SVG (or PNG)
// file. The commands of a chart carry their data inline as datablocks, so nothing
// but the script is written before gnuplot runs. QSIM_GNUPLOT names another binary.

#include <string>
#include <vector>

namespace qsim::ptq::detail {

struct Chart {
  std::string name;      ///< file stem: <dir>/<name>.svg
  int width = 800;       ///< pixels
  int height = 360;
  std::string commands;  ///< gnuplot commands ending in a plot command
  bool png = false;      ///< also render <dir>/<name>.png (for documents that cannot inline SVG)
};

/// Renders every chart into `dir` (created if needed) with one gnuplot run; returns
/// the SVG text of each, in order. IoError naming gnuplot and its stderr on failure.
std::vector<std::string> render_charts(const std::vector<Chart>& charts, const std::string& dir);

/// A gnuplot string literal: `text` in double quotes, escaped.
std::string quoted(const std::string& text);

}  // namespace qsim::ptq::detail
