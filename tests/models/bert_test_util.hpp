#pragma once

// Helpers shared by the BERT tests: a small random config and a temp directory.

#include <filesystem>
#include <random>
#include <string>

#include "qsim/models/bert/bert_config.hpp"
#include "support/scratch_dir.hpp"

namespace qsim::test {

/// A small config of our own (not a fixture's sizes): 2 layers, 3 heads of 4.
inline models::bert::BertConfig small_config(models::bert::BertHead head, int64_t num_labels = 2) {
  nlohmann::json json = {{"vocab_size", 50},           {"hidden_size", 12},
                         {"num_hidden_layers", 2},     {"num_attention_heads", 3},
                         {"intermediate_size", 20},    {"max_position_embeddings", 16},
                         {"type_vocab_size", 2},       {"hidden_act", "gelu"},
                         {"num_labels", num_labels},   {"architectures", {models::bert::to_string(head)}}};
  return models::bert::BertConfig::from_json(json, "small");
}

}  // namespace qsim::test
