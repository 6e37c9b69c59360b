#pragma once

// ResultsTable: the GLUE-table layout of the zoo's README (Configuration | task
// columns), printed to the console and written as Markdown, plus results.json.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qsim::examples {

struct ResultsRow {
  std::string configuration;              ///< "FP32 (qsim)", "W8A8 (zoo reference)", ...
  std::vector<std::optional<double>> values;  ///< one per column; empty = not measured
};

struct ResultsTable {
  std::vector<std::string> columns;  ///< "SST-2 (acc)", ...
  std::vector<ResultsRow> rows;
  /// Per column: > 0 prints that many significant digits; otherwise (the default) two decimals.
  std::vector<int> significant_digits;

  /// A Markdown table (also what the console shows).
  std::string markdown() const;
};

/// Writes `dir`/results.json (`json`) and `dir`/results.md (`title`, the table, `notes`),
/// creating `dir`. Throws qsim::IoError naming the file that cannot be written.
void write_results(const std::string& dir, const nlohmann::json& json, const std::string& title,
                   const ResultsTable& table, const std::string& notes);

/// "CoLA (mcc)" style column header of a card's task and metric.
std::string column_name(const std::string& task, const std::string& metric);

}  // namespace qsim::examples
