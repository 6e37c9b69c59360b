#pragma once

// One quantizer of a simulated model as QuantSim lists it: the node plus where it
// sits. The name is the node's module path (e.g.
// "bert.encoder.layer.0.attention.self.mask_add.input_quantizers.0"), the same
// name in configs, logs and state dicts.

#include <cstddef>
#include <string>
#include <string_view>

#include "qsim/quant/quantizer_node.hpp"

namespace qsim::sim {

/// What tensor a quantizer sees (AIMET's "input" / "output" / parameter).
enum class SlotKind { input, output, param };

std::string_view to_string(SlotKind kind);

struct QuantizerSlot {
  std::string name;     ///< the node's module path
  std::string block;    ///< the owning block's module path (AIMET's layer name)
  std::string op_type;  ///< the block's ONNX op type
  SlotKind kind = SlotKind::output;
  std::size_t index = 0;  ///< input index (AIMET "input" key); 0 for the output
  std::string param;      ///< parameter name ("weight", "bias") for parameter slots
  quant::QuantizerNode node{nullptr};
  /// On in quantized / range-learning mode: set by the config, cleared when
  /// calibration saw no data or by QuantSim::set_enabled.
  bool active = false;
  /// Frozen quantizers keep their encoding through compute_encodings and stay on
  /// the static grid in range-learning mode (AIMET's freeze_encoding).
  bool frozen = false;
  /// Embedding groups only: calibration sorts the channels by range before grouping.
  bool permute_groups = true;

  /// "<block>.<param>" for parameters (the param_encodings key), else the block.
  std::string tensor_name() const { return kind == SlotKind::param ? block + "." + param : block; }
};

}  // namespace qsim::sim
