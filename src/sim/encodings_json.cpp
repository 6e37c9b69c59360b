// QuantSim's AIMET encodings JSON (semantics §4.3), AIMET 1.23's torch layout:
//   {"version": "0.5.1",
//    "activation_encodings": {"<block>": {"input": {"0": E}, "output": {"0": E}}},
//    "param_encodings": {"<block>.<param>": [E, ...]},   (one E per channel)
//    "excluded_layers": []}
// An activation with embedding groups is written per channel, as AIMET writes
// per-channel parameters: a list of C encodings (channel c's is its group's), so
// any per-channel-aware reader applies it correctly; qsim's extra section
//    "embedding_groups": {"<block>": {"output": {"0": [group of channel 0, ...]}}}
// keeps the layout, from which load_encodings rebuilds the K group encodings.
//   E = {"bitwidth", "dtype": "int", "is_symmetric": "True"/"False", "max", "min",
//        "offset", "scale"}
// Learned quantizers report scale = (max − min)/N and offset = round_even(min/scale)
// (calculate_delta_offset); static ones their stored delta and offset.

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/quant/embedding_groups.hpp"
#include "qsim/sim/encodings_file.hpp"
#include "qsim/sim/quant_sim.hpp"

#include <torch/torch.h>

namespace qsim::sim {
namespace {

using nlohmann::json;

json encoding_entry(const quant::Encoding& e, const QuantizerSlot& s) {
  return encoding_to_json(e, s.node->options.symmetry() != quant::Symmetry::asymmetric);
}

// An activation entry as the quantizer takes it: one encoding, or, with embedding
// groups, the K group encodings rebuilt from the per-channel list and its layout.
std::vector<quant::Encoding> activation_encodings(const EncodingsFile::Entry& entry, const QuantizerSlot& s) {
  const int64_t groups = s.node->options.embedding_groups();
  if (groups == 0) {
    QSIM_CHECK(entry.group_of_channel.empty() && entry.encodings.size() == 1, ConfigError,
               "{}: {} encodings{}, quantizer '{}' is per tensor (embedding groups are set in SimOptions)", entry.where,
               entry.encodings.size(), entry.group_of_channel.empty() ? "" : " in embedding groups", s.name);
    return entry.encodings;
  }
  QSIM_CHECK(!entry.group_of_channel.empty(), ConfigError,
             "{}: quantizer '{}' has {} embedding groups, the file has no 'embedding_groups' layout for it",
             entry.where, s.name, groups);
  try {
    quant::check_group_layout(entry.group_of_channel, groups, entry.where);
  } catch (const ValueError& e) {
    throw ConfigError(fmt::format("{} (quantizer '{}')", e.what(), s.name));
  }
  std::vector<quant::Encoding> out(static_cast<std::size_t>(groups));
  std::vector<int64_t> first(static_cast<std::size_t>(groups), -1);
  for (std::size_t c = 0; c < entry.group_of_channel.size(); ++c) {
    const auto g = static_cast<std::size_t>(entry.group_of_channel[c]);
    if (first[g] < 0) {
      first[g] = static_cast<int64_t>(c);
      out[g] = entry.encodings[c];
    }
    QSIM_CHECK(entry.encodings[c] == out[g], ConfigError,
               "{}: channels {} and {} are both in embedding group {} but have different encodings", entry.where,
               first[g], c, g);
  }
  return out;
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
  json groups = json::object();
  for (const QuantizerSlot& s : slots_) {
    if (!s.active || (!s.node->has_encoding() && s.node->options.grid() != quant::Grid::learned_grid)) continue;
    const std::vector<quant::Encoding> encodings = s.node->encodings();
    if (s.kind == SlotKind::param) {
      json list = json::array();
      for (const quant::Encoding& e : encodings) list.push_back(encoding_entry(e, s));
      params[s.tensor_name()] = std::move(list);
    } else if (s.node->uses_embedding_groups()) {
      const std::string kind(to_string(s.kind));
      const std::string index = std::to_string(s.index);
      json list = json::array();
      for (const quant::Encoding& e : quant::expand_to_channels(encodings, s.node->group_of_channel())) {
        list.push_back(encoding_entry(e, s));
      }
      activations[s.block][kind][index] = std::move(list);
      groups[s.block][kind][index] = s.node->group_of_channel();
    } else {
      activations[s.block][std::string(to_string(s.kind))][std::to_string(s.index)] = encoding_entry(encodings.front(), s);
    }
  }
  json out{{"version", kEncodingsVersion},
           {"activation_encodings", std::move(activations)},
           {"param_encodings", std::move(params)},
           {"excluded_layers", json::array()}};
  if (!groups.empty()) out["embedding_groups"] = std::move(groups);
  return out;
}

void QuantSim::export_encodings(const std::string& path) const {
  io::write_file_atomically(path, encodings_json().dump(4) + '\n');
}

void QuantSim::load_encodings_file(const std::string& path) { load_encodings(io::read_json_file(path), path); }

void QuantSim::load_encodings(const json& file, const std::string& origin) {
  // Everything is checked first so that a bad file leaves the simulation unchanged.
  const EncodingsFile parsed = parse_encodings(file, origin);
  std::unordered_map<std::string, std::vector<quant::Encoding>> by_slot;
  std::unordered_map<std::string, std::vector<int64_t>> layouts;
  for (const auto& [name, entry] : parsed.activations) {
    QSIM_CHECK(index_.count(name) != 0, ConfigError, "{}: the model has no quantizer '{}'", entry.where, name);
    check_fits(entry.encodings, slot(name), entry.where);
    by_slot[name] = activation_encodings(entry, slot(name));
    if (!entry.group_of_channel.empty()) layouts[name] = entry.group_of_channel;
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
    if (!s.active) continue;
    const auto layout = layouts.find(s.name);
    if (layout != layouts.end()) s.node->set_group_of_channel(layout->second);
    s.node->set_encodings(it->second);
  }
  finish_loading_or_calibration();
}

}  // namespace qsim::sim
