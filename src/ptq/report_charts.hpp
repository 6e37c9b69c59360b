#pragma once

// The report's charts as gnuplot commands (gnuplot.hpp renders them).

#include <vector>

#include "gnuplot.hpp"
#include "qsim/ptq/report.hpp"

namespace qsim::ptq::detail {

struct TitledChart {
  Chart chart;
  std::string title;    ///< the figure's caption in the page
  std::string section;  ///< which section of the page it belongs to
};

std::vector<TitledChart> report_charts(const AnalysisReport& report);

}  // namespace qsim::ptq::detail
