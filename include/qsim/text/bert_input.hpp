#pragma once

// BertInput: one encoded example as BERT consumes it, padded to max_seq_length.
// Plain vectors: converting batches to tensors is the model/eval code's job.

#include <cstdint>
#include <string>
#include <vector>

namespace qsim::text {

struct BertInput {
  std::vector<std::string> tokens;      ///< [CLS] a... [SEP] (b... [SEP]), unpadded
  std::vector<int64_t> input_ids;       ///< padded with 0 to max_seq_length
  std::vector<int64_t> token_type_ids;  ///< 0 for [CLS] a [SEP], 1 for b [SEP]; padded with 0
  std::vector<int64_t> attention_mask;  ///< 1 for real tokens, 0 for padding
};

}  // namespace qsim::text
