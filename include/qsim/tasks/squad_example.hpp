#pragma once

// SquadExample: one SQuAD v1.1 question with its paragraph split into whitespace
// "doc tokens", as BERT's run_squad.py `read_squad_examples` builds it. Character
// offsets are code-point indices into the context (as Python's str indexes it, and
// as `answer_start` counts).

#include <cstdint>
#include <string>
#include <vector>

namespace qsim::tasks {

struct SquadAnswer {
  std::string text;
  int64_t answer_start = 0;  ///< code-point offset in the context
};

struct SquadExample {
  std::string qas_id;
  std::string question_text;
  std::string context;                   ///< the paragraph, UTF-8
  std::vector<std::string> doc_tokens;   ///< context split on whitespace (incl. U+202F)
  std::vector<int64_t> doc_token_starts;  ///< code-point offset of each doc token
  std::vector<SquadAnswer> answers;      ///< every gold answer (evaluation)
  int64_t start_position = -1;           ///< doc token of the first answer's start (-1: none)
  int64_t end_position = -1;             ///< doc token of the first answer's end
};

/// A SQuAD dataset file: its version string and examples in file order.
struct SquadDataset {
  std::string version;
  int64_t num_articles = 0;
  int64_t num_paragraphs = 0;
  std::vector<SquadExample> examples;
};

}  // namespace qsim::tasks
