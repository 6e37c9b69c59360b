#pragma once

// Expected sizes read from data/MANIFEST.md (never hard-coded in the tests): the
// summary table's "rows" column per file, and the SQuAD dataset's counts.

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "support/paths.hpp"

namespace qsim::test {

inline std::string manifest_text() {
  std::ifstream in(data_dir() + "/MANIFEST.md");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// "glue/CoLA/dev.tsv" -> 1043 from rows like `| glue/CoLA/dev.tsv | 1043 | ...`.
inline std::map<std::string, long> manifest_row_counts() {
  std::map<std::string, long> counts;
  const std::string text = manifest_text();
  const std::regex row(R"(\|\s*(glue/[^|\s]+\.tsv)\s*\|\s*(\d+)\s*\|)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator(); ++it) {
    counts[(*it)[1]] = std::stol((*it)[2]);
  }
  return counts;
}

/// The count before `label` in the SQuAD entry, e.g. "articles" in "48 articles".
inline long manifest_squad_count(const std::string& label) {
  const std::string text = manifest_text();
  std::smatch match;
  const std::regex pattern("(\\d+)\\s+" + label);
  return std::regex_search(text, match, pattern) ? std::stol(match[1]) : -1;
}

}  // namespace qsim::test
