#pragma once

// Helpers shared by the BERT tests: a small random config and a temp directory.

#include <filesystem>
#include <random>
#include <string>

#include "qsim/models/bert/bert_config.hpp"

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

class ScratchDir {
 public:
  ScratchDir() {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() /
            ("qsim_models_test_" + std::to_string(seed()) + "_" + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace qsim::test
