#pragma once

// BertConfig: the Hugging Face config.json of a BERT checkpoint, read with the same
// defaults as transformers' BertConfig (a missing field takes HF's default), plus the
// head the "architectures" field names. Unsupported settings are rejected with
// qsim::ConfigError rather than silently computed differently.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "qsim/models/bert/attention_mask.hpp"

namespace qsim::models::bert {

/// The task head on top of the encoder, from config.json "architectures".
enum class BertHead {
  none,                     ///< "BertModel" (or no architectures): encoder + pooler only
  sequence_classification,  ///< "BertForSequenceClassification": pooler → dropout → classifier
  question_answering,       ///< "BertForQuestionAnswering": no pooler, qa_outputs on every token
};

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  /// Standard deviation of HF's random initialisation (Linear and Embedding weights
  /// ~ N(0, initializer_range), biases 0, LayerNorm 1 / 0); unused when weights load.
  double initializer_range = 0.02;
  /// Only "gelu" (exact erf GELU) is supported.
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  /// HF's classifier_dropout; when empty the classifier uses hidden_dropout_prob.
  std::optional<double> classifier_dropout;
  int64_t pad_token_id = 0;
  /// Only "absolute" is supported.
  std::string position_embedding_type = "absolute";
  std::vector<std::string> architectures;
  BertHead head = BertHead::none;
  /// len(id2label) when id2label is given, else num_labels, else 2 (as in HF).
  int64_t num_labels = 2;
  /// Label names by id (HF's LABEL_i when the file has none).
  std::vector<std::string> id2label;
  std::map<std::string, int64_t> label2id;
  /// "regression", "single_label_classification", "multi_label_classification" or empty.
  std::string problem_type;
  /// Not part of config.json: how self-attention masks padded keys (§7.3).
  AttentionMask attention_mask;
  /// The JSON this config was read from; to_json() keeps its other fields.
  nlohmann::json source = nlohmann::json::object();

  /// Parses a config.json object; `origin` names it in errors (e.g. its path).
  /// Throws qsim::ConfigError for a field of the wrong type, an unsupported
  /// hidden_act / position_embedding_type / architecture, or inconsistent sizes.
  static BertConfig from_json(const nlohmann::json& json, const std::string& origin = "config.json");
  /// Reads and parses `path` (qsim::IoError when missing or not JSON).
  static BertConfig from_file(const std::string& path);
  /// The HF config.json content: `source` with every field above written back.
  nlohmann::json to_json() const;

  /// hidden_size / num_attention_heads.
  int64_t head_size() const { return hidden_size / num_attention_heads; }
  /// Whether the sequence-classification head regresses (STS-B): problem_type
  /// "regression", or no problem_type and a single label (HF's rule).
  bool is_regression() const;
  /// Throws qsim::ConfigError naming `origin` and the field when sizes are unusable.
  void validate(const std::string& origin = "config.json") const;
};

/// "BertModel", "BertForSequenceClassification", "BertForQuestionAnswering".
std::string to_string(BertHead head);

}  // namespace qsim::models::bert
