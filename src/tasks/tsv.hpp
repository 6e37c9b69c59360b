#pragma once

// Tab-separated rows with quoting off (csv.QUOTE_NONE): what GLUE files need.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qsim::tasks::detail {

struct TsvRow {
  int64_t line = 0;  ///< 1-based line number
  std::vector<std::string_view> fields;
};

/// Reads a whole file (IoError naming it if it cannot be read).
std::string read_file(const std::string& path);

/// Splits `content` into rows: a leading UTF-8 BOM is skipped, lines end at '\n'
/// (a trailing '\r' is dropped), the last line may lack its newline, and an empty
/// line is a row with no fields. Views point into `content`.
std::vector<TsvRow> split_tsv(std::string_view content);

}  // namespace qsim::tasks::detail
