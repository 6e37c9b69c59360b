// parse_encodings: the format checks of an AIMET encodings JSON, with no model in
// sight (semantics §4.3). Messages name the origin and the JSON path of the entry.

#include "qsim/sim/encodings_file.hpp"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "detail/check.hpp"

namespace qsim::sim {
namespace {

using nlohmann::json;

constexpr int kMaxBitwidth = 32;

double number_field(const json& entry, const char* key, const std::string& where) {
  QSIM_CHECK(entry.contains(key), ConfigError, "{}: missing field '{}'", where, key);
  const json& value = entry.at(key);
  QSIM_CHECK(value.is_number(), ConfigError, "{}: field '{}' must be a number, got {}", where, key, value.dump());
  const double number = value.get<double>();
  QSIM_CHECK(std::isfinite(number), ConfigError, "{}: field '{}' must be finite, got {}", where, key, value.dump());
  return number;
}

void check_fields(const json& entry, const std::string& where) {
  for (const auto& item : entry.items()) {
    const std::string& k = item.key();
    QSIM_CHECK(k == "bitwidth" || k == "dtype" || k == "is_symmetric" || k == "max" || k == "min" || k == "offset" ||
                   k == "scale",
               ConfigError, "{}: unknown field '{}'", where, k);
  }
  if (entry.contains("dtype")) {
    QSIM_CHECK(entry.at("dtype") == "int", ConfigError, "{}: 'dtype' must be \"int\", got {}", where,
               entry.at("dtype").dump());
  }
  if (entry.contains("is_symmetric")) {
    const json& sym = entry.at("is_symmetric");
    QSIM_CHECK(sym == "True" || sym == "False", ConfigError, "{}: 'is_symmetric' must be \"True\" or \"False\", got {}",
               where, sym.dump());
  }
}

int bitwidth_field(const json& entry, const std::string& where) {
  QSIM_CHECK(entry.contains("bitwidth") && entry.at("bitwidth").is_number_integer(), ConfigError,
             "{}: 'bitwidth' must be an integer", where);
  const json& value = entry.at("bitwidth");
  // Range-checked before narrowing, so that a huge value cannot wrap into range.
  const bool in_range = value.is_number_unsigned() ? value.get<uint64_t>() - 1 < uint64_t{kMaxBitwidth}
                                                   : value.get<int64_t>() >= 1 && value.get<int64_t>() <= kMaxBitwidth;
  QSIM_CHECK(in_range, ConfigError, "{}: 'bitwidth' must be in [1, {}], got {}", where, kMaxBitwidth, value.dump());
  const auto bitwidth = value.get<int64_t>();
  return static_cast<int>(bitwidth);
}

quant::Encoding parse_entry(const json& entry, const std::string& where) {
  QSIM_CHECK(entry.is_object(), ConfigError, "{}: expected an encoding object, got {}", where, entry.type_name());
  check_fields(entry, where);
  quant::Encoding e;
  e.bitwidth = bitwidth_field(entry, where);
  e.min = number_field(entry, "min", where);
  e.max = number_field(entry, "max", where);
  e.delta = number_field(entry, "scale", where);
  e.offset = number_field(entry, "offset", where);
  QSIM_CHECK(e.min <= e.max, ConfigError, "{}: range must have min <= max, got [{}, {}]", where, e.min, e.max);
  QSIM_CHECK(e.delta > 0.0, ConfigError, "{}: 'scale' must be positive, got {}", where, e.delta);
  QSIM_CHECK(e.offset == std::nearbyint(e.offset), ConfigError, "{}: 'offset' must be an integer, got {}", where,
             e.offset);
  return e;
}

void check_top_level(const json& file, const std::string& origin) {
  QSIM_CHECK(file.is_object(), ConfigError, "{}: expected a JSON object", origin);
  for (const auto& item : file.items()) {
    const std::string& k = item.key();
    QSIM_CHECK(k == "version" || k == "activation_encodings" || k == "param_encodings" || k == "excluded_layers" ||
                   k == "embedding_groups",
               ConfigError, "{}: unknown key '{}'", origin, k);
  }
  for (const char* key : {"activation_encodings", "param_encodings"}) {
    QSIM_CHECK(file.contains(key) && file.at(key).is_object(), ConfigError, "{}: '{}' must be an object", origin, key);
  }
}

// Calls visit(quantizer name, "<where>.<kind>.<index>", value) for every entry of
// a section keyed like activation_encodings: block → input|output → index.
template <typename Visit>
void for_each_activation(const json& section, const std::string& where_section, Visit visit) {
  for (const auto& [block, kinds] : section.items()) {
    const std::string where = fmt::format("{}.{}", where_section, block);
    QSIM_CHECK(kinds.is_object(), ConfigError, "{}: expected an object", where);
    for (const auto& [kind, indices] : kinds.items()) {
      QSIM_CHECK(kind == "input" || kind == "output", ConfigError, "{}: unknown key '{}' (expected input or output)",
                 where, kind);
      QSIM_CHECK(indices.is_object(), ConfigError, "{}.{}: expected an object of indices", where, kind);
      for (const auto& [index, value] : indices.items()) {
        QSIM_CHECK(kind == "input" || index == "0", ConfigError, "{}.output.{}: blocks have one output", where, index);
        const std::string name = (block.empty() ? "" : block + ".") +
                                 (kind == "input" ? "input_quantizers." + index : std::string("output_quantizer"));
        visit(name, fmt::format("{}.{}.{}", where, kind, index), value);
      }
    }
  }
}

void parse_activations(const json& section, const std::string& origin, EncodingsFile& out) {
  for_each_activation(section, fmt::format("{}: 'activation_encodings", origin),
                      [&out](const std::string& name, const std::string& where, const json& entry) {
                        const std::string at = where + "'";
                        EncodingsFile::Entry parsed{{}, at, {}};
                        if (entry.is_array()) {
                          // AIMET writes one object; a list is per channel (one element: ONNX-style per tensor).
                          QSIM_CHECK(!entry.empty(), ConfigError, "{}: empty list of encodings", at);
                          for (std::size_t c = 0; c < entry.size(); ++c) {
                            parsed.encodings.push_back(parse_entry(entry[c], fmt::format("{}[{}]", at, c)));
                          }
                        } else {
                          parsed.encodings.push_back(parse_entry(entry, at));
                        }
                        out.activations[name] = std::move(parsed);
                      });
}

void parse_embedding_groups(const json& section, const std::string& origin, EncodingsFile& out) {
  QSIM_CHECK(section.is_object(), ConfigError, "{}: 'embedding_groups' must be an object", origin);
  for_each_activation(section, fmt::format("{}: 'embedding_groups", origin),
                      [&out](const std::string& name, const std::string& where, const json& list) {
                        const std::string at = where + "'";
                        const auto it = out.activations.find(name);
                        QSIM_CHECK(it != out.activations.end(), ConfigError,
                                   "{}: no activation encoding for this quantizer", at);
                        QSIM_CHECK(list.is_array() && list.size() == it->second.encodings.size(), ConfigError,
                                   "{}: expected a list of {} group indices (one per encoding)", at,
                                   it->second.encodings.size());
                        std::vector<int64_t> groups;
                        for (const json& g : list) {
                          QSIM_CHECK(g.is_number_integer() && g.get<int64_t>() >= 0 &&
                                         g.get<int64_t>() < static_cast<int64_t>(list.size()),
                                     ConfigError, "{}: group indices must be integers in [0, {}), got {}", at,
                                     list.size(), g.dump());
                          groups.push_back(g.get<int64_t>());
                        }
                        it->second.group_of_channel = std::move(groups);
                      });
}

void parse_params(const json& section, const std::string& origin, EncodingsFile& out) {
  for (const auto& [tensor, list] : section.items()) {
    const std::string where = fmt::format("{}: 'param_encodings.{}'", origin, tensor);
    QSIM_CHECK(list.is_array() && !list.empty(), ConfigError, "{}: expected a non-empty list of encodings", where);
    EncodingsFile::Entry entry{{}, where, {}};
    for (std::size_t c = 0; c < list.size(); ++c) {
      entry.encodings.push_back(parse_entry(list[c], fmt::format("{}[{}]", where, c)));
    }
    out.params[tensor] = std::move(entry);
  }
}

}  // namespace

json encoding_to_json(const quant::Encoding& e, bool symmetric) {
  return json{{"bitwidth", e.bitwidth},
              {"dtype", "int"},
              {"is_symmetric", symmetric ? "True" : "False"},
              {"max", e.max},
              {"min", e.min},
              {"offset", static_cast<int64_t>(e.offset)},
              {"scale", e.delta}};
}

EncodingsFile parse_encodings(const json& file, const std::string& origin) {
  check_top_level(file, origin);
  EncodingsFile out;
  parse_activations(file.at("activation_encodings"), origin, out);
  parse_params(file.at("param_encodings"), origin, out);
  if (file.contains("embedding_groups")) parse_embedding_groups(file.at("embedding_groups"), origin, out);
  return out;
}

}  // namespace qsim::sim
