#include "qsim/tasks/label_map.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "detail/check.hpp"
#include "qsim/log.hpp"

namespace qsim::tasks {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool is_placeholder(const LabelMap& label2id) {
  for (const auto& [name, id] : label2id) {
    if (name != fmt::format("LABEL_{}", id)) return false;
  }
  return true;
}

}  // namespace

LabelMap read_label2id(const std::string& config_path) {
  std::ifstream in(config_path);
  QSIM_CHECK(in.good(), IoError, "{}: cannot open config file", config_path);
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    ::qsim::detail::raise<IoError>("{}: invalid JSON: {}", config_path, e.what());
  }
  QSIM_CHECK(config.is_object() && config.contains("label2id"), ConfigError,
             "{}: missing 'label2id'", config_path);
  const auto& entries = config.at("label2id");
  QSIM_CHECK(entries.is_object(), ConfigError, "{}: 'label2id' must be an object", config_path);
  LabelMap label2id;
  for (const auto& [name, id] : entries.items()) {
    QSIM_CHECK(id.is_number_integer(), ConfigError, "{}: 'label2id.{}' must be an integer, got {}",
               config_path, name, id.dump());
    label2id[name] = id.get<int64_t>();
  }
  return label2id;
}

LabelMap glue_label_map(GlueTask task, const std::optional<LabelMap>& config_label2id) {
  LabelMap map;
  if (is_regression(task)) return map;
  const std::vector<std::string> labels = glue_labels(task);
  if (config_label2id && !is_placeholder(*config_label2id)) {
    LabelMap by_lower_name;
    for (const auto& [name, id] : *config_label2id) by_lower_name[lower(name)] = id;
    std::vector<std::string> config_names;
    for (const auto& entry : by_lower_name) config_names.push_back(entry.first);
    std::vector<std::string> task_names = labels;
    std::sort(task_names.begin(), task_names.end());
    if (config_names == task_names) {
      for (const auto& label : labels) map[label] = by_lower_name.at(label);
      return map;
    }
    logger()->warn("config label2id names [{}] do not match the {} labels [{}]; using the dataset order",
                   fmt::join(config_names, ", "), glue_task_name(task), fmt::join(labels, ", "));
  }
  for (size_t i = 0; i < labels.size(); ++i) map[labels[i]] = static_cast<int64_t>(i);
  return map;
}

}  // namespace qsim::tasks
