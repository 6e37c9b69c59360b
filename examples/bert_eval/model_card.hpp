#pragma once

// ModelCard: one of the zoo's bert_w8a8_<task> configurations as a JSON file shipped
// beside bert_eval (model_cards/<name>.json): the task, the sequence lengths, the
// quantization settings and the zoo's reference numbers for the table.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace qsim::examples {

struct ModelCard {
  std::string name;            ///< "bert_w8a8_rte"
  std::string task;            ///< "cola", "sst2", ..., "mnli", "squad"
  std::string metric;          ///< the table's metric key: "mcc", "acc", "f1", "corr", "squad_f1"
  int64_t max_seq_length = 128;
  int64_t doc_stride = 128;        ///< SQuAD only
  int64_t max_query_length = 64;   ///< SQuAD only
  int param_bitwidth = 8;
  int output_bitwidth = 8;
  std::string quant_scheme = "tf_range_learning";
  std::string attention_mask = "zoo";  ///< "zoo" (−6), "hf" or a number
  bool input_quantization = true;
  std::map<std::string, double> reference;  ///< "fp32", "w8a8" → the zoo's numbers
  std::string checkpoint_hint;  ///< how to get a fine-tuned checkpoint (for errors)

  /// Throws qsim::ConfigError naming `origin` and the field.
  static ModelCard from_json(const nlohmann::json& json, const std::string& origin);
  nlohmann::json to_json() const;
  bool is_squad() const { return task == "squad"; }
};

/// Where the cards live: $QSIM_MODEL_CARD_DIR, else the directory compiled in.
std::string default_model_card_dir();
/// The names of the cards in `dir`, sorted.
std::vector<std::string> model_card_names(const std::string& dir);
/// A card by name (looked up in `dir`) or by path to a .json file. Throws
/// qsim::ConfigError listing the known names for an unknown one.
ModelCard load_model_card(const std::string& name_or_path, const std::string& dir);

}  // namespace qsim::examples
