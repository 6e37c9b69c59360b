#pragma once

// An AIMET encodings JSON file (quantization-semantics.md §4.3) as plain data,
// checked against the file format only. QuantSim::load_encodings then checks it
// against a model (quantizer names, bitwidths, channel counts). Keeping the two
// apart lets a tool read, compare or fuzz an encodings file without a model.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "qsim/quant/encoding.hpp"

namespace qsim::sim {

struct EncodingsFile {
  struct Entry {
    /// One encoding (activations, per-tensor parameters) or one per channel.
    std::vector<quant::Encoding> encodings;
    /// Where it came from, for messages: "<origin>: 'param_encodings.<tensor>'".
    std::string where;
    /// Activations with embedding groups: the group of each channel (one per
    /// encoding); empty otherwise.
    std::vector<int64_t> group_of_channel;
  };
  /// By quantizer name: "<block>.input_quantizers.<i>" or "<block>.output_quantizer".
  std::map<std::string, Entry> activations;
  /// By parameter tensor name, e.g. "bert.encoder.layer.0.attention.self.query.weight".
  std::map<std::string, Entry> params;
};

/// The encodings format version qsim writes: AIMET 1.23's.
inline constexpr const char* kEncodingsVersion = "0.5.1";

/// One encoding as AIMET writes it (§4.3): {"bitwidth", "dtype": "int",
/// "is_symmetric": "True"/"False", "max", "min", "offset" (an integer), "scale"}.
nlohmann::json encoding_to_json(const quant::Encoding& encoding, bool symmetric);

/// Parses AIMET 1.23's torch layout ({"version", "activation_encodings",
/// "param_encodings", "excluded_layers"}), plus qsim's "embedding_groups" section
/// (same block / input|output / index keys as activation_encodings, each a list of
/// group indices, one per channel) for activations whose entry is a per-channel
/// list. Every encoding needs an integer bitwidth in [1, 32] and finite numbers
/// with min <= max. Throws qsim::ConfigError naming `origin` and the entry at fault.
EncodingsFile parse_encodings(const nlohmann::json& file, const std::string& origin);

}  // namespace qsim::sim
