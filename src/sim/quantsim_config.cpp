#include "qsim/sim/quantsim_config.hpp"

#include <initializer_list>
#include <string_view>

#include "detail/check.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/log.hpp"

namespace qsim::sim {
namespace {

using nlohmann::json;

// Parsing context: the origin (file) and the key path for messages.
struct Where {
  const std::string& origin;
  std::string path;
  Where at(const std::string& key) const { return {origin, path.empty() ? key : path + "." + key}; }
};

const char* type_name(const json& value) { return value.type_name(); }

void check_object(const json& value, const Where& where) {
  QSIM_CHECK(value.is_object(), ConfigError, "{}: '{}': expected an object, got {}", where.origin, where.path,
             type_name(value));
}

void check_keys(const json& object, const Where& where, std::initializer_list<std::string_view> allowed) {
  for (const auto& item : object.items()) {
    bool known = false;
    for (std::string_view key : allowed) known = known || item.key() == key;
    QSIM_CHECK(known, ConfigError, "{}: '{}': unknown key", where.origin, where.at(item.key()).path);
  }
}

void require_keys(const json& object, const Where& where, std::initializer_list<std::string_view> required) {
  for (std::string_view key : required) {
    QSIM_CHECK(object.contains(std::string(key)), ConfigError, "{}: '{}': missing required key", where.origin,
               where.at(std::string(key)).path);
  }
}

// AIMET's string booleans: exactly "True" or "False".
std::optional<bool> read_bool(const json& object, const std::string& key, const Where& where) {
  if (!object.contains(key)) return std::nullopt;
  const json& value = object.at(key);
  const Where at = where.at(key);
  QSIM_CHECK(value.is_string(), ConfigError, "{}: '{}': expected \"True\" or \"False\", got {} {}", at.origin,
             at.path, type_name(value), value.dump());
  const std::string text = value.get<std::string>();
  QSIM_CHECK(text == "True" || text == "False", ConfigError, "{}: '{}': expected \"True\" or \"False\", got \"{}\"",
             at.origin, at.path, text);
  return text == "True";
}

ParamRule read_param_rule(const json& value, const Where& where) {
  check_object(value, where);
  check_keys(value, where, {"is_quantized", "is_symmetric"});
  return {read_bool(value, "is_quantized", where), read_bool(value, "is_symmetric", where)};
}

std::map<std::string, ParamRule> read_param_rules(const json& value, const Where& where) {
  check_object(value, where);
  std::map<std::string, ParamRule> rules;
  for (const auto& item : value.items()) rules[item.key()] = read_param_rule(item.value(), where.at(item.key()));
  return rules;
}

// supported_kernels (AIMET's target bitwidth/dtype lists) is validated for shape and
// otherwise unused: AIMET 1.23 only enforces it behind a global flag that is off.
void check_supported_kernels(const json& value, const Where& where) {
  QSIM_CHECK(value.is_array() && !value.empty(), ConfigError, "{}: '{}': expected a non-empty array, got {}",
             where.origin, where.path, type_name(value));
  for (std::size_t i = 0; i < value.size(); ++i) {
    const Where item = where.at(std::to_string(i));
    check_object(value[i], item);
    check_keys(value[i], item, {"activation", "param"});
    require_keys(value[i], item, {"activation", "param"});
    for (const char* kind : {"activation", "param"}) {
      const Where at = item.at(kind);
      const json& kernel = value[i].at(kind);
      check_object(kernel, at);
      check_keys(kernel, at, {"bitwidth", "dtype"});
      require_keys(kernel, at, {"bitwidth", "dtype"});
      QSIM_CHECK(kernel.at("bitwidth").is_number_integer(), ConfigError, "{}: '{}.bitwidth': expected an integer",
                 at.origin, at.path);
      QSIM_CHECK(kernel.at("dtype") == "int" || kernel.at("dtype") == "float", ConfigError,
                 "{}: '{}.dtype': expected \"int\" or \"float\", got {}", at.origin, at.path,
                 kernel.at("dtype").dump());
    }
  }
  logger()->debug("{}: '{}' is accepted but not used", where.origin, where.path);
}

OpRule read_op_rule(const json& value, const Where& where, bool op_type_entry) {
  check_object(value, where);
  if (op_type_entry) {
    check_keys(value, where,
               {"is_input_quantized", "is_output_quantized", "is_symmetric", "params", "per_channel_quantization",
                "supported_kernels"});
  } else {
    check_keys(value, where, {"is_input_quantized", "is_output_quantized", "is_symmetric"});
  }
  OpRule rule;
  rule.is_input_quantized = read_bool(value, "is_input_quantized", where);
  rule.is_output_quantized = read_bool(value, "is_output_quantized", where);
  rule.is_symmetric = read_bool(value, "is_symmetric", where);
  if (op_type_entry) {
    if (value.contains("params")) rule.params = read_param_rules(value.at("params"), where.at("params"));
    rule.per_channel_quantization = read_bool(value, "per_channel_quantization", where);
    if (value.contains("supported_kernels")) check_supported_kernels(value.at("supported_kernels"), where.at("supported_kernels"));
  }
  return rule;
}

QuantSimConfig::Defaults read_defaults(const json& value, const Where& where) {
  check_object(value, where);
  check_keys(value, where,
             {"ops", "params", "strict_symmetric", "unsigned_symmetric", "per_channel_quantization",
              "supported_kernels"});
  require_keys(value, where, {"ops", "params"});
  QuantSimConfig::Defaults defaults;
  defaults.ops = read_op_rule(value.at("ops"), where.at("ops"), false);
  defaults.params = read_param_rule(value.at("params"), where.at("params"));
  defaults.strict_symmetric = read_bool(value, "strict_symmetric", where);
  defaults.unsigned_symmetric = read_bool(value, "unsigned_symmetric", where);
  defaults.per_channel_quantization = read_bool(value, "per_channel_quantization", where);
  if (value.contains("supported_kernels")) check_supported_kernels(value.at("supported_kernels"), where.at("supported_kernels"));
  return defaults;
}

std::vector<std::vector<std::string>> read_supergroups(const json& value, const Where& where) {
  QSIM_CHECK(value.is_array(), ConfigError, "{}: '{}': expected an array, got {}", where.origin, where.path,
             type_name(value));
  std::vector<std::vector<std::string>> groups;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const Where item = where.at(std::to_string(i));
    check_object(value[i], item);
    check_keys(value[i], item, {"op_list"});
    require_keys(value[i], item, {"op_list"});
    const json& ops = value[i].at("op_list");
    const Where at = item.at("op_list");
    QSIM_CHECK(ops.is_array() && ops.size() >= 2, ConfigError, "{}: '{}': expected an array of at least 2 op types, got {}",
               at.origin, at.path, ops.dump());
    std::vector<std::string> group;
    for (const json& op : ops) {
      QSIM_CHECK(op.is_string(), ConfigError, "{}: '{}': op types must be strings, got {}", at.origin, at.path,
                 op.dump());
      group.push_back(op.get<std::string>());
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace

QuantSimConfig QuantSimConfig::from_json(const json& value, const std::string& origin) {
  const Where root{origin, ""};
  QSIM_CHECK(value.is_object(), ConfigError, "{}: expected a JSON object at the top level, got {}", origin,
             type_name(value));
  check_keys(value, root, {"defaults", "params", "op_type", "supergroups", "model_input", "model_output"});
  require_keys(value, root, {"defaults", "params", "op_type", "supergroups", "model_input", "model_output"});
  QuantSimConfig config;
  config.defaults = read_defaults(value.at("defaults"), root.at("defaults"));
  config.params = read_param_rules(value.at("params"), root.at("params"));
  const Where op_type = root.at("op_type");
  check_object(value.at("op_type"), op_type);
  for (const auto& item : value.at("op_type").items()) {
    config.op_type[item.key()] = read_op_rule(item.value(), op_type.at(item.key()), true);
  }
  config.supergroups = read_supergroups(value.at("supergroups"), root.at("supergroups"));
  const Where input = root.at("model_input");
  check_object(value.at("model_input"), input);
  check_keys(value.at("model_input"), input, {"is_input_quantized"});
  config.model_input = read_op_rule(value.at("model_input"), input, false);
  const Where output = root.at("model_output");
  check_object(value.at("model_output"), output);
  check_keys(value.at("model_output"), output, {"is_output_quantized"});
  config.model_output = read_op_rule(value.at("model_output"), output, false);
  config.source = value;
  return config;
}

QuantSimConfig QuantSimConfig::from_file(const std::string& path) {
  return from_json(io::read_json_file(path), path);
}

QuantSimConfig QuantSimConfig::aimet_default() {
  return from_json(json::parse(default_config_text()), "default_config.json");
}

}  // namespace qsim::sim
