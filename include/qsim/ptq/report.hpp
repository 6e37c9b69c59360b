#pragma once

// The analysis report a person opens: everything the sensitivity analysis, block
// errors, quantizer statistics and mixed precision found, written as
//   analysis.json  every number, machine-readable
//   analysis.md    a summary: the scores, the ten most sensitive groups, the blocks
//                  with the lowest SQNR, the mixed-precision choice
//   report.html    one self-contained page (no network at view time) with the
//                  charts inline as SVG, drawn by gnuplot; charts/ keeps the SVGs
//                  (and pareto.png, for documents)
// Any part may be absent; what is there is reported.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "qsim/ptq/block_error.hpp"
#include "qsim/ptq/quantizer_stats.hpp"
#include "qsim/ptq/sensitivity.hpp"

namespace qsim::ptq {

struct AnalysisReport {
  std::string title = "qsim quantization analysis";
  nlohmann::json settings = nlohmann::json::object();  ///< what was analysed and how
  std::optional<SensitivityResult> sensitivity;
  std::vector<BlockError> block_errors;
  std::vector<QuantizerStats> quantizers;
  nlohmann::json mixed_precision;  ///< AmpResult::to_json, or null

  nlohmann::json to_json() const;
  std::string markdown() const;
};

/// Writes the three files (and charts/) into `dir`, each atomically. analysis.json
/// and analysis.md are written before the charts are drawn, so they survive a
/// missing gnuplot (IoError naming it).
void write_report(const std::string& dir, const AnalysisReport& report);

}  // namespace qsim::ptq
