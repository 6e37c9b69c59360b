#pragma once

// Encoding a task's examples into a TaskDataset: GLUE rows through the BERT
// tokenizer (single sentences or pairs, truncated and padded to max_seq_length),
// SQuAD windows from tasks::convert_squad_examples.

#include <cstdint>
#include <vector>

#include "qsim/tasks/glue_example.hpp"
#include "qsim/tasks/squad_features.hpp"
#include "qsim/text/bert_tokenizer.hpp"
#include "qsim/train/task_dataset.hpp"

namespace qsim::train {

/// Labels are int64 class ids, or float32 scores when `regression` (STS-B).
TaskDataset encode_glue(const std::vector<tasks::GlueExample>& examples, const text::BertTokenizer& tokenizer,
                        int64_t max_seq_length, bool regression);

/// Inputs of the features; start/end positions as training targets when `with_targets`.
TaskDataset encode_squad(const std::vector<tasks::SquadFeature>& features, bool with_targets);

}  // namespace qsim::train
