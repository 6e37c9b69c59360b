#pragma once

// <prefix>.encodings: AIMET's encodings JSON keyed by ONNX names, the file
// Qualcomm's converters take with the float graph (--quantization_overrides):
//   {"version": "0.5.1",
//    "activation_encodings": {"<tensor>": [E]},          (PEG: one E per channel)
//    "param_encodings": {"<initializer>": [E, ...]},     (one E per channel)
//    "excluded_layers": [],
//    "embedding_groups": {"<tensor>": [group of channel 0, ...]}}   (PEG only)
// with E as QuantSim::encodings_json writes it.

#include <vector>

#include <nlohmann/json.hpp>

#include "qsim/deploy/onnx_export.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::deploy::detail {

nlohmann::json tensor_encodings_json(const sim::QuantSim& sim, const std::vector<ExportedQuantizer>& quantizers,
                                     LearnedEncodings learned);

}  // namespace qsim::deploy::detail
