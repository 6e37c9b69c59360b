#pragma once

// SQuAD features: BERT's run_squad.py `convert_examples_to_features`. Each example's
// doc tokens are word-pieced, and the document is cut into overlapping windows
// ("doc spans") of max_seq_length - len(query) - 3 pieces, advancing by doc_stride:
//   [CLS] query [SEP] window [SEP] (padded with 0)
// token_to_orig_map ties each window piece back to its doc token (and so to its
// character offset, SquadExample::doc_token_starts), and token_is_max_context marks
// the window where a piece has the most surrounding context (`_check_is_max_context`),
// which post-processing uses to take every answer start from one window only.

#include <cstdint>
#include <vector>

#include "qsim/tasks/squad_example.hpp"
#include "qsim/text/bert_tokenizer.hpp"

namespace qsim::tasks {

struct SquadFeatureOptions {
  int64_t max_seq_length = 384;
  int64_t doc_stride = 128;
  int64_t max_query_length = 64;
  bool is_training = false;  ///< compute start/end targets (skips unlocatable answers)
};

struct SquadFeature {
  int64_t unique_id = 0;       ///< 1000000000, 1000000001, ... as run_squad.py numbers them
  int64_t example_index = 0;
  int64_t doc_span_index = 0;
  int64_t num_tokens = 0;      ///< tokens before padding
  std::vector<int64_t> input_ids;        ///< padded to max_seq_length
  std::vector<int64_t> token_type_ids;   ///< 0 for [CLS] query [SEP], 1 for the window and its [SEP]
  std::vector<int64_t> attention_mask;
  std::vector<int64_t> token_to_orig_map;     ///< per token: doc token index, -1 outside the window
  std::vector<uint8_t> token_is_max_context;  ///< per token: 1 where this window is the best context
  int64_t start_position = 0;  ///< training target (0 = [CLS] when the answer is outside)
  int64_t end_position = 0;
};

/// Builds the features of `examples`, in order. Throws ConfigError for options
/// that leave no room for the document.
std::vector<SquadFeature> convert_squad_examples(const std::vector<SquadExample>& examples,
                                                 const text::BertTokenizer& tokenizer,
                                                 const SquadFeatureOptions& options = {});

}  // namespace qsim::tasks
