// QuantSim's AIMET encodings JSON (semantics §4.3), AIMET 1.23's torch layout:
//   {"version": "0.5.1",
//    "activation_encodings": {"<block>": {"input": {"0": E}, "output": {"0": E}}},
//    "param_encodings": {"<block>.<param>": [E, ...]},   (one E per channel)
//    "excluded_layers": []}
//   E = {"bitwidth", "dtype": "int", "is_symmetric": "True"/"False", "max", "min",
//        "offset", "scale"}
// Learned quantizers report scale = (max − min)/N and offset = round_even(min/scale)
// (calculate_delta_offset); static ones their stored delta and offset.

#include <cmath>

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/sim/quant_sim.hpp"

#include <torch/torch.h>

namespace qsim::sim {
namespace {

using nlohmann::json;

constexpr const char* kEncodingVersion = "0.5.1";

json encoding_entry(const quant::Encoding& e, const QuantizerSlot& s) {
  const bool symmetric = s.node->options.symmetry() != quant::Symmetry::asymmetric;
  return json{{"bitwidth", e.bitwidth},
              {"dtype", "int"},
              {"is_symmetric", symmetric ? "True" : "False"},
              {"max", e.max},
              {"min", e.min},
              {"offset", static_cast<int64_t>(e.offset)},
              {"scale", e.delta}};
}

double number_field(const json& entry, const char* key, const std::string& where) {
  QSIM_CHECK(entry.contains(key), ConfigError, "{}: missing field '{}'", where, key);
  QSIM_CHECK(entry.at(key).is_number(), ConfigError, "{}: field '{}' must be a number, got {}", where, key,
             entry.at(key).dump());
  return entry.at(key).get<double>();
}

quant::Encoding parse_entry(const json& entry, const QuantizerSlot& s, const std::string& where) {
  QSIM_CHECK(entry.is_object(), ConfigError, "{}: expected an encoding object, got {}", where, entry.type_name());
  for (const auto& item : entry.items()) {
    const std::string& k = item.key();
    QSIM_CHECK(k == "bitwidth" || k == "dtype" || k == "is_symmetric" || k == "max" || k == "min" || k == "offset" ||
                   k == "scale",
               ConfigError, "{}: unknown field '{}'", where, k);
  }
  QSIM_CHECK(entry.contains("bitwidth") && entry.at("bitwidth").is_number_integer(), ConfigError,
             "{}: 'bitwidth' must be an integer", where);
  if (entry.contains("dtype")) {
    QSIM_CHECK(entry.at("dtype") == "int", ConfigError, "{}: 'dtype' must be \"int\", got {}", where,
               entry.at("dtype").dump());
  }
  if (entry.contains("is_symmetric")) {
    const json& sym = entry.at("is_symmetric");
    QSIM_CHECK(sym == "True" || sym == "False", ConfigError, "{}: 'is_symmetric' must be \"True\" or \"False\", got {}",
               where, sym.dump());
  }
  quant::Encoding e;
  e.bitwidth = entry.at("bitwidth").get<int>();
  QSIM_CHECK(e.bitwidth == s.node->options.bitwidth(), ConfigError,
             "{}: bitwidth {} does not match quantizer '{}' (bitwidth {})", where, e.bitwidth, s.name,
             s.node->options.bitwidth());
  e.min = number_field(entry, "min", where);
  e.max = number_field(entry, "max", where);
  e.delta = number_field(entry, "scale", where);
  e.offset = number_field(entry, "offset", where);
  QSIM_CHECK(std::isfinite(e.min) && std::isfinite(e.max) && e.min <= e.max, ConfigError,
             "{}: range must be finite with min <= max, got [{}, {}]", where, e.min, e.max);
  return e;
}

}  // namespace

json QuantSim::encodings_json() const {
  QSIM_CHECK(calibrated_, ConfigError, "quantsim: no encodings to export: call compute_encodings first");
  json activations = json::object();
  json params = json::object();
  for (const QuantizerSlot& s : slots_) {
    if (!s.active || (!s.node->has_encoding() && s.node->options.grid() != quant::Grid::learned_grid)) continue;
    const std::vector<quant::Encoding> encodings = s.node->encodings();
    if (s.kind == SlotKind::param) {
      json list = json::array();
      for (const quant::Encoding& e : encodings) list.push_back(encoding_entry(e, s));
      params[s.tensor_name()] = std::move(list);
    } else {
      activations[s.block][std::string(to_string(s.kind))][std::to_string(s.index)] = encoding_entry(encodings.front(), s);
    }
  }
  return json{{"version", kEncodingVersion},
              {"activation_encodings", std::move(activations)},
              {"param_encodings", std::move(params)},
              {"excluded_layers", json::array()}};
}

void QuantSim::export_encodings(const std::string& path) const {
  io::write_file_atomically(path, encodings_json().dump(4) + '\n');
}

void QuantSim::load_encodings_file(const std::string& path) { load_encodings(io::read_json_file(path), path); }

void QuantSim::load_encodings(const json& file, const std::string& origin) {
  QSIM_CHECK(file.is_object(), ConfigError, "{}: expected a JSON object", origin);
  for (const auto& item : file.items()) {
    const std::string& k = item.key();
    QSIM_CHECK(k == "version" || k == "activation_encodings" || k == "param_encodings" || k == "excluded_layers",
               ConfigError, "{}: unknown key '{}'", origin, k);
  }
  for (const char* key : {"activation_encodings", "param_encodings"}) {
    QSIM_CHECK(file.contains(key) && file.at(key).is_object(), ConfigError, "{}: '{}' must be an object", origin, key);
  }
  // Parse everything first so that a bad file leaves the simulation unchanged.
  std::unordered_map<std::string, std::vector<quant::Encoding>> parsed;
  for (const auto& [block, kinds] : file.at("activation_encodings").items()) {
    const std::string where = fmt::format("{}: 'activation_encodings.{}'", origin, block);
    QSIM_CHECK(kinds.is_object(), ConfigError, "{}: expected an object", where);
    for (const auto& [kind, indices] : kinds.items()) {
      QSIM_CHECK(kind == "input" || kind == "output", ConfigError, "{}: unknown key '{}' (expected input or output)",
                 where, kind);
      QSIM_CHECK(indices.is_object(), ConfigError, "{}.{}: expected an object of indices", where, kind);
      for (const auto& [index, entry] : indices.items()) {
        const std::string name = (block.empty() ? "" : block + ".") +
                                 (kind == "input" ? "input_quantizers." + index : std::string("output_quantizer"));
        QSIM_CHECK(kind == "input" || index == "0", ConfigError, "{}.output.{}: blocks have one output", where, index);
        QSIM_CHECK(index_.count(name) != 0, ConfigError, "{}.{}.{}: the model has no quantizer '{}'", where, kind,
                   index, name);
        // AIMET writes one object; a one-element list (ONNX-style) is accepted too.
        const json& e = entry.is_array() && entry.size() == 1 ? entry.front() : entry;
        parsed[name] = {parse_entry(e, slot(name), fmt::format("{}.{}.{}", where, kind, index))};
      }
    }
  }
  std::unordered_map<std::string, std::string> param_slot;
  for (const QuantizerSlot& s : slots_) {
    if (s.kind == SlotKind::param) param_slot[s.tensor_name()] = s.name;
  }
  const auto params = model_->named_parameters();
  for (const auto& [tensor, list] : file.at("param_encodings").items()) {
    const std::string where = fmt::format("{}: 'param_encodings.{}'", origin, tensor);
    QSIM_CHECK(param_slot.count(tensor) != 0, ConfigError, "{}: the model has no quantized parameter '{}'", where,
               tensor);
    const QuantizerSlot& s = slot(param_slot.at(tensor));
    QSIM_CHECK(list.is_array() && !list.empty(), ConfigError, "{}: expected a non-empty list of encodings", where);
    const auto axis = s.node->options.channel_axis();
    const torch::Tensor* param = params.find(tensor);
    QSIM_CHECK(param != nullptr && param->defined(), ConfigError, "{}: the model has no parameter '{}'", where, tensor);
    const int64_t expected = axis ? param->size(*axis) : 1;
    QSIM_CHECK(static_cast<int64_t>(list.size()) == expected, ConfigError,
               "{}: {} encodings, quantizer '{}' expects {} ({} of tensor shape {})", where, list.size(), s.name,
               expected, axis ? "per channel along axis " + std::to_string(*axis) : std::string("per tensor"),
               c10::str(param->sizes()));
    std::vector<quant::Encoding> encodings;
    for (std::size_t c = 0; c < list.size(); ++c) {
      encodings.push_back(parse_entry(list[c], s, fmt::format("{}[{}]", where, c)));
    }
    parsed[s.name] = std::move(encodings);
  }
  for (QuantizerSlot& s : slots_) {
    const auto it = parsed.find(s.name);
    s.node->switch_to_static_grid();
    s.node->clear_encoding();
    s.active = it != parsed.end();
    if (s.active) s.node->set_encodings(it->second);
  }
  finish_loading_or_calibration();
}

}  // namespace qsim::sim
