#include "qsim/models/bert/bert_config.hpp"

#include <cmath>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/io/checkpoint.hpp"

namespace qsim::models::bert {
namespace {

using nlohmann::json;

// Reads `key` into `out` when present (and not null); wrong types name the field.
template <typename T>
void read_field(const json& object, const std::string& key, T& out, const std::string& origin) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  bool ok = false;
  if constexpr (std::is_same_v<T, std::string>) {
    ok = it->is_string();
  } else if constexpr (std::is_integral_v<T>) {
    ok = it->is_number_integer();
  } else {
    ok = it->is_number();
  }
  QSIM_CHECK(ok, ConfigError, "{}: '{}': expected a {}, got {}", origin, key,
             std::is_same_v<T, std::string> ? "string" : "number", it->dump());
  out = it->get<T>();
}

BertHead parse_head(const std::vector<std::string>& architectures, const std::string& origin) {
  if (architectures.empty()) return BertHead::none;
  QSIM_CHECK(architectures.size() == 1, ConfigError, "{}: 'architectures': expected one entry, got {}",
             origin, architectures.size());
  const std::string& name = architectures.front();
  for (BertHead head : {BertHead::none, BertHead::sequence_classification, BertHead::question_answering}) {
    if (name == to_string(head)) return head;
  }
  QSIM_CHECK(false, ConfigError,
             "{}: 'architectures': unsupported '{}', expected BertModel, BertForSequenceClassification or "
             "BertForQuestionAnswering",
             origin, name);
  return BertHead::none;
}

void read_labels(const json& object, BertConfig& config, const std::string& origin) {
  read_field(object, "num_labels", config.num_labels, origin);
  const auto id2label = object.find("id2label");
  if (id2label != object.end() && !id2label->is_null()) {
    QSIM_CHECK(id2label->is_object(), ConfigError, "{}: 'id2label': expected an object, got {}", origin,
               id2label->dump());
    config.num_labels = static_cast<int64_t>(id2label->size());
    config.id2label.assign(id2label->size(), "");
    for (const auto& [key, value] : id2label->items()) {
      std::size_t used = 0;
      int64_t id = -1;
      try {
        id = std::stoll(key, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      QSIM_CHECK(used == key.size() && id >= 0 && id < config.num_labels && value.is_string(), ConfigError,
                 "{}: 'id2label': entry '{}' must map an id in [0, {}) to a string", origin, key,
                 config.num_labels);
      config.id2label[static_cast<std::size_t>(id)] = value.get<std::string>();
    }
  } else {
    for (int64_t i = 0; i < config.num_labels; ++i) config.id2label.push_back(fmt::format("LABEL_{}", i));
  }
  const auto label2id = object.find("label2id");
  if (label2id != object.end() && !label2id->is_null()) {
    QSIM_CHECK(label2id->is_object(), ConfigError, "{}: 'label2id': expected an object, got {}", origin,
               label2id->dump());
    for (const auto& [key, value] : label2id->items()) {
      QSIM_CHECK(value.is_number_integer(), ConfigError, "{}: 'label2id': '{}' must map to an integer id",
                 origin, key);
      config.label2id[key] = value.get<int64_t>();
    }
  } else {
    for (std::size_t i = 0; i < config.id2label.size(); ++i)
      config.label2id[config.id2label[i]] = static_cast<int64_t>(i);
  }
}

}  // namespace

std::string to_string(BertHead head) {
  switch (head) {
    case BertHead::none:
      return "BertModel";
    case BertHead::sequence_classification:
      return "BertForSequenceClassification";
    case BertHead::question_answering:
      return "BertForQuestionAnswering";
  }
  return "unknown";
}

BertConfig BertConfig::from_json(const json& object, const std::string& origin) {
  QSIM_CHECK(object.is_object(), ConfigError, "{}: expected a JSON object, got {}", origin,
             object.type_name());
  BertConfig config;
  config.source = object;
  read_field(object, "vocab_size", config.vocab_size, origin);
  read_field(object, "hidden_size", config.hidden_size, origin);
  read_field(object, "num_hidden_layers", config.num_hidden_layers, origin);
  read_field(object, "num_attention_heads", config.num_attention_heads, origin);
  read_field(object, "intermediate_size", config.intermediate_size, origin);
  read_field(object, "max_position_embeddings", config.max_position_embeddings, origin);
  read_field(object, "type_vocab_size", config.type_vocab_size, origin);
  read_field(object, "layer_norm_eps", config.layer_norm_eps, origin);
  read_field(object, "initializer_range", config.initializer_range, origin);
  read_field(object, "hidden_act", config.hidden_act, origin);
  read_field(object, "hidden_dropout_prob", config.hidden_dropout_prob, origin);
  read_field(object, "attention_probs_dropout_prob", config.attention_probs_dropout_prob, origin);
  double classifier_dropout = -1.0;
  read_field(object, "classifier_dropout", classifier_dropout, origin);
  if (classifier_dropout >= 0.0) config.classifier_dropout = classifier_dropout;
  read_field(object, "pad_token_id", config.pad_token_id, origin);
  read_field(object, "position_embedding_type", config.position_embedding_type, origin);
  read_field(object, "problem_type", config.problem_type, origin);
  const auto architectures = object.find("architectures");
  if (architectures != object.end() && !architectures->is_null()) {
    QSIM_CHECK(architectures->is_array(), ConfigError, "{}: 'architectures': expected a list, got {}",
               origin, architectures->dump());
    for (const auto& name : *architectures) {
      QSIM_CHECK(name.is_string(), ConfigError, "{}: 'architectures': expected strings, got {}", origin,
                 name.dump());
      config.architectures.push_back(name.get<std::string>());
    }
  }
  config.head = parse_head(config.architectures, origin);
  read_labels(object, config, origin);
  config.validate(origin);
  return config;
}

BertConfig BertConfig::from_file(const std::string& path) {
  return from_json(io::read_json_file(path), path);
}

json BertConfig::to_json() const {
  json out = source;
  out["vocab_size"] = vocab_size;
  out["hidden_size"] = hidden_size;
  out["num_hidden_layers"] = num_hidden_layers;
  out["num_attention_heads"] = num_attention_heads;
  out["intermediate_size"] = intermediate_size;
  out["max_position_embeddings"] = max_position_embeddings;
  out["type_vocab_size"] = type_vocab_size;
  out["layer_norm_eps"] = layer_norm_eps;
  out["initializer_range"] = initializer_range;
  out["hidden_act"] = hidden_act;
  out["hidden_dropout_prob"] = hidden_dropout_prob;
  out["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  out["classifier_dropout"] = classifier_dropout ? json(*classifier_dropout) : json(nullptr);
  out["pad_token_id"] = pad_token_id;
  out["position_embedding_type"] = position_embedding_type;
  out["model_type"] = "bert";
  out["architectures"] = json::array({to_string(head)});
  json id2label_json = json::object();
  for (std::size_t i = 0; i < id2label.size(); ++i) id2label_json[std::to_string(i)] = id2label[i];
  out["id2label"] = id2label_json;
  out["label2id"] = label2id;
  out.erase("num_labels");  // implied by id2label, as HF writes it
  if (problem_type.empty()) {
    out.erase("problem_type");
  } else {
    out["problem_type"] = problem_type;
  }
  return out;
}

bool BertConfig::is_regression() const {
  return problem_type == "regression" || (problem_type.empty() && num_labels == 1);
}

void BertConfig::validate(const std::string& origin) const {
  const auto positive = [&](const char* key, int64_t value) {
    QSIM_CHECK(value > 0, ConfigError, "{}: '{}': must be positive, got {}", origin, key, value);
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  positive("num_labels", num_labels);
  QSIM_CHECK(hidden_size % num_attention_heads == 0, ConfigError,
             "{}: 'hidden_size': {} is not a multiple of num_attention_heads {}", origin, hidden_size,
             num_attention_heads);
  QSIM_CHECK(hidden_act == "gelu", ConfigError,
             "{}: 'hidden_act': unsupported '{}', expected gelu (exact erf GELU)", origin, hidden_act);
  QSIM_CHECK(position_embedding_type == "absolute", ConfigError,
             "{}: 'position_embedding_type': unsupported '{}', expected absolute", origin,
             position_embedding_type);
  QSIM_CHECK(layer_norm_eps > 0.0, ConfigError, "{}: 'layer_norm_eps': must be positive, got {}", origin,
             layer_norm_eps);
  QSIM_CHECK(std::isfinite(initializer_range) && initializer_range >= 0.0, ConfigError,
             "{}: 'initializer_range': must be a finite number >= 0, got {}", origin, initializer_range);
  for (const auto& [key, p] : {std::pair<const char*, double>{"hidden_dropout_prob", hidden_dropout_prob},
                               {"attention_probs_dropout_prob", attention_probs_dropout_prob},
                               {"classifier_dropout", classifier_dropout.value_or(0.0)}}) {
    QSIM_CHECK(p >= 0.0 && p < 1.0, ConfigError, "{}: '{}': must be in [0, 1), got {}", origin, key, p);
  }
  QSIM_CHECK(pad_token_id >= 0 && pad_token_id < vocab_size, ConfigError,
             "{}: 'pad_token_id': must be in [0, {}), got {}", origin, vocab_size, pad_token_id);
  QSIM_CHECK(problem_type.empty() || problem_type == "regression" ||
                 problem_type == "single_label_classification" || problem_type == "multi_label_classification",
             ConfigError, "{}: 'problem_type': unsupported '{}'", origin, problem_type);
  QSIM_CHECK(static_cast<int64_t>(id2label.size()) == num_labels, ConfigError,
             "{}: 'id2label': {} labels, num_labels is {}", origin, id2label.size(), num_labels);
  QSIM_CHECK(head != BertHead::question_answering || num_labels == 2, ConfigError,
             "{}: 'num_labels': BertForQuestionAnswering needs 2 (start, end), got {}", origin, num_labels);
}

}  // namespace qsim::models::bert
