#pragma once

// SQuAD post-processing: BERT's run_squad.py `write_predictions`. For each example,
// the n_best_size highest start and end logits of every window are paired into
// candidate spans (inside the document, start in its max-context window, end >=
// start, at most max_answer_length pieces), ranked by start + end logit, mapped
// back to the original text with `get_final_text`, and de-duplicated. The best
// candidate is the prediction ("empty" when there is none, as in the reference).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qsim/tasks/squad_example.hpp"
#include "qsim/tasks/squad_features.hpp"
#include "qsim/text/vocab.hpp"

namespace qsim::tasks {

/// Model output for one feature (logits over its max_seq_length positions).
struct SquadResult {
  int64_t unique_id = 0;
  std::vector<float> start_logits;
  std::vector<float> end_logits;
};

struct SquadNbestEntry {
  std::string text;
  double start_logit = 0.0;
  double end_logit = 0.0;
  double probability = 0.0;  ///< softmax over the n-best total scores
};

struct SquadPrediction {
  std::string qas_id;
  std::string text;  ///< best answer
  std::vector<SquadNbestEntry> nbest;
};

struct SquadPredictionOptions {
  int64_t n_best_size = 20;
  int64_t max_answer_length = 30;
  bool do_lower_case = true;  ///< must match the tokenizer that made the features
};

/// Predictions for every example, in example order. `vocab` turns feature ids back
/// into word pieces. Throws ValueError if a feature has no result.
std::vector<SquadPrediction> squad_predictions(const std::vector<SquadExample>& examples,
                                               const std::vector<SquadFeature>& features,
                                               const std::vector<SquadResult>& results,
                                               const text::Vocab& vocab,
                                               const SquadPredictionOptions& options = {});

/// run_squad.py `get_final_text`: projects the de-tokenized prediction `pred_text`
/// back onto `orig_text` (the original doc tokens joined by spaces), recovering its
/// case and accents; returns orig_text when the alignment fails.
std::string get_final_text(std::string_view pred_text, std::string_view orig_text, bool do_lower_case);

}  // namespace qsim::tasks
