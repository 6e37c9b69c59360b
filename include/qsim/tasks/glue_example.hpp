#pragma once

// GlueExample: one row of a GLUE TSV, as the text pipeline consumes it.

#include <cstdint>
#include <optional>
#include <string>

namespace qsim::tasks {

struct GlueExample {
  int64_t line = 0;                   ///< 1-based line number in the TSV (provenance)
  std::string text_a;
  std::optional<std::string> text_b;  ///< empty for single-sentence tasks
  int64_t label = -1;                 ///< class id (classification tasks)
  double score = 0.0;                 ///< similarity score (STS-B)
};

}  // namespace qsim::tasks
