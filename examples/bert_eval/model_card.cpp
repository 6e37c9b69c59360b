#include "model_card.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "detail/check.hpp"

namespace qsim::examples {
namespace {

const std::vector<std::string>& known_tasks() {
  static const std::vector<std::string> tasks = {"cola", "sst2", "mrpc", "stsb", "qqp",
                                                 "mnli", "qnli", "rte",  "squad"};
  return tasks;
}

template <typename T>
void read(const nlohmann::json& json, const char* key, T& out, const std::string& origin, bool required = false) {
  if (!json.contains(key)) {
    QSIM_CHECK(!required, ConfigError, "{}: '{}' is missing", origin, key);
    return;
  }
  try {
    out = json.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ConfigError(fmt::format("{}: '{}' has the wrong type ({})", origin, key, json.at(key).type_name()));
  }
}

}  // namespace

ModelCard ModelCard::from_json(const nlohmann::json& json, const std::string& origin) {
  QSIM_CHECK(json.is_object(), ConfigError, "{}: a model card must be a JSON object", origin);
  static const std::vector<std::string> keys = {
      "name",           "task",           "metric",          "max_seq_length",     "doc_stride",
      "max_query_length", "param_bitwidth", "output_bitwidth", "quant_scheme",     "attention_mask",
      "input_quantization", "reference", "checkpoint_hint", "description"};
  for (const auto& item : json.items())
    QSIM_CHECK(std::find(keys.begin(), keys.end(), item.key()) != keys.end(), ConfigError,
               "{}: unknown key '{}' (known: {})", origin, item.key(), fmt::join(keys, ", "));
  ModelCard card;
  read(json, "name", card.name, origin, true);
  read(json, "task", card.task, origin, true);
  read(json, "metric", card.metric, origin, true);
  read(json, "max_seq_length", card.max_seq_length, origin);
  read(json, "doc_stride", card.doc_stride, origin);
  read(json, "max_query_length", card.max_query_length, origin);
  read(json, "param_bitwidth", card.param_bitwidth, origin);
  read(json, "output_bitwidth", card.output_bitwidth, origin);
  read(json, "quant_scheme", card.quant_scheme, origin);
  read(json, "attention_mask", card.attention_mask, origin);
  read(json, "input_quantization", card.input_quantization, origin);
  read(json, "reference", card.reference, origin);
  read(json, "checkpoint_hint", card.checkpoint_hint, origin);
  QSIM_CHECK(std::find(known_tasks().begin(), known_tasks().end(), card.task) != known_tasks().end(), ConfigError,
             "{}: 'task': unknown task '{}' (known: {})", origin, card.task, fmt::join(known_tasks(), ", "));
  QSIM_CHECK(card.max_seq_length >= 8 && card.max_seq_length <= 512, ConfigError,
             "{}: 'max_seq_length' must be in [8, 512], got {}", origin, card.max_seq_length);
  return card;
}

nlohmann::json ModelCard::to_json() const {
  return {{"name", name},
          {"task", task},
          {"metric", metric},
          {"max_seq_length", max_seq_length},
          {"doc_stride", doc_stride},
          {"max_query_length", max_query_length},
          {"param_bitwidth", param_bitwidth},
          {"output_bitwidth", output_bitwidth},
          {"quant_scheme", quant_scheme},
          {"attention_mask", attention_mask},
          {"input_quantization", input_quantization},
          {"reference", reference}};
}

std::string default_model_card_dir() {
  const char* env = std::getenv("QSIM_MODEL_CARD_DIR");
  return (env != nullptr && *env != '\0') ? std::string(env) : std::string(QSIM_MODEL_CARD_DIR);
}

std::vector<std::string> model_card_names(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

ModelCard load_model_card(const std::string& name_or_path, const std::string& dir) {
  const bool is_path = name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".json";
  const std::string path = is_path ? name_or_path : (std::filesystem::path(dir) / (name_or_path + ".json")).string();
  if (!std::filesystem::is_regular_file(path)) {
    QSIM_CHECK(!is_path, IoError, "{}: model card file not found", path);
    throw ConfigError(fmt::format("--model_config: unknown model config '{}' (known: {}; cards in {})", name_or_path,
                                  fmt::join(model_card_names(dir), ", "), dir));
  }
  std::ifstream in(path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("{}: invalid JSON: {}", path, e.what()));
  }
  return ModelCard::from_json(json, path);
}

}  // namespace qsim::examples
