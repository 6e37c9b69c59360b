#pragma once

// SQuAD v1.1 exact match and F1, as the official evaluate-v1.1.py computes them.
// Answers are normalised by: Python str.lower(); removing ASCII punctuation
// (string.punctuation, no space left behind); replacing the words a/an/the
// (regex \b(a|an|the)\b, Unicode word boundaries) with a space; collapsing whitespace.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "qsim/tasks/squad_example.hpp"

namespace qsim::tasks {

/// The official `normalize_answer`.
std::string normalize_answer(std::string_view text);

/// 1.0 when the normalised strings are equal, else 0.0.
double squad_exact_match(std::string_view prediction, std::string_view ground_truth);

/// Token-overlap F1 of the normalised strings; 0.0 without a common token.
double squad_f1(std::string_view prediction, std::string_view ground_truth);

struct SquadScores {
  double exact_match = 0.0;  ///< percent
  double f1 = 0.0;           ///< percent
  int64_t num_questions = 0;
  std::vector<std::string> unanswered;  ///< ids without a prediction (scored 0)
};

/// The official `evaluate`: each question's best EM and F1 over its gold answers,
/// averaged over every question of the dataset (missing predictions score 0), x100.
/// Throws ValueError for an empty dataset or a question without answers.
SquadScores evaluate_squad(const std::vector<SquadExample>& examples,
                           const std::map<std::string, std::string>& predictions);

}  // namespace qsim::tasks
