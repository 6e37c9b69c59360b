// QuantSim's AIMET encodings JSON (semantics §4.3), AIMET 1.23's torch layout:
//   {"version": "0.5.1",
//    "activation_encodings": {"<block>": {"input": {"0": E}, "output": {"0": E}}},
//    "param_encodings": {"<block>.<param>": [E, ...]},   (one E per channel)
//    "excluded_layers": []}
//   E = {"bitwidth", "dtype": "int", "is_symmetric": "True"/"False", "max", "min",
//        "offset", "scale"}
// Learned quantizers report scale = (max − min)/N and offset = round_even(min/scale)
// (calculate_delta_offset); static ones their stored delta and offset.

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/sim/encodings_file.hpp"
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

// The file's encodings checked against the quantizer they are for (§4.3).
void check_fits(const std::vector<quant::Encoding>& encodings, const QuantizerSlot& s, const std::string& where) {
  for (const quant::Encoding& e : encodings) {
    QSIM_CHECK(e.bitwidth == s.node->options.bitwidth(), ConfigError,
               "{}: bitwidth {} does not match quantizer '{}' (bitwidth {})", where, e.bitwidth, s.name,
               s.node->options.bitwidth());
  }
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
  // Everything is checked first so that a bad file leaves the simulation unchanged.
  const EncodingsFile parsed = parse_encodings(file, origin);
  std::unordered_map<std::string, std::vector<quant::Encoding>> by_slot;
  for (const auto& [name, entry] : parsed.activations) {
    QSIM_CHECK(index_.count(name) != 0, ConfigError, "{}: the model has no quantizer '{}'", entry.where, name);
    check_fits(entry.encodings, slot(name), entry.where);
    by_slot[name] = entry.encodings;
  }
  std::unordered_map<std::string, std::string> param_slot;
  for (const QuantizerSlot& s : slots_) {
    if (s.kind == SlotKind::param) param_slot[s.tensor_name()] = s.name;
  }
  const auto params = model_->named_parameters();
  for (const auto& [tensor, entry] : parsed.params) {
    QSIM_CHECK(param_slot.count(tensor) != 0, ConfigError, "{}: the model has no quantized parameter '{}'",
               entry.where, tensor);
    const QuantizerSlot& s = slot(param_slot.at(tensor));
    const auto axis = s.node->options.channel_axis();
    const torch::Tensor* param = params.find(tensor);
    QSIM_CHECK(param != nullptr && param->defined(), ConfigError, "{}: the model has no parameter '{}'", entry.where,
               tensor);
    const int64_t expected = axis ? param->size(*axis) : 1;
    QSIM_CHECK(static_cast<int64_t>(entry.encodings.size()) == expected, ConfigError,
               "{}: {} encodings, quantizer '{}' expects {} ({} of tensor shape {})", entry.where,
               entry.encodings.size(), s.name, expected,
               axis ? "per channel along axis " + std::to_string(*axis) : std::string("per tensor"),
               c10::str(param->sizes()));
    check_fits(entry.encodings, s, entry.where);
    by_slot[s.name] = entry.encodings;
  }
  for (QuantizerSlot& s : slots_) {
    const auto it = by_slot.find(s.name);
    s.node->switch_to_static_grid();
    s.node->clear_encoding();
    s.active = it != by_slot.end();
    if (s.active) s.node->set_encodings(it->second);
  }
  finish_loading_or_calibration();
}

}  // namespace qsim::sim
