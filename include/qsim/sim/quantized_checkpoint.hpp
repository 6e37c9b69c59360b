#pragma once

// A quantized checkpoint directory: everything needed to rebuild a simulation that
// gives bit-identical outputs.
//   model.safetensors        the float weights (Hugging Face names; no quantizer state)
//   config.json              the model's config (BertConfig for BERT)
//   quantsim_encodings.json  AIMET 1.x encodings (§4.3); learned min/max are float32
//                            values written as exact doubles, so they round-trip
//   quantsim_config.json     the AIMET quantsim config the simulation was built with
//   quantsim_state.json      SimOptions, the mode, and each quantizer's state
//                            (active, frozen, grid, bitwidth, symmetry, channel axis)

#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::sim {

inline constexpr const char* kEncodingsFileName = "quantsim_encodings.json";
inline constexpr const char* kQuantsimConfigFileName = "quantsim_config.json";
inline constexpr const char* kQuantsimStateFileName = "quantsim_state.json";

/// Writes the directory (created if needed) with `model_config` as config.json.
/// Throws ConfigError when the simulation has no encodings, IoError on write errors.
void save_quantized(const QuantSim& sim, const std::string& dir, const nlohmann::json& model_config);
/// Same for a BERT model: config.json from its BertConfig (plus its attention mask mode).
void save_quantized(const QuantSim& sim, const std::string& dir);

/// Loads the weights of `dir` into `model` (same architecture; every parameter and
/// buffer must be present with the same shape) and restores the simulation.
/// Throws IoError for missing or corrupt files, ValueError for weights that do not
/// fit, ConfigError for encodings or state that do not fit the model.
QuantSim load_quantized(std::shared_ptr<torch::nn::Module> model, const std::string& dir);

struct QuantizedBert {
  models::bert::BertForTask model;
  QuantSim sim;
};
/// Builds the BERT of `dir`/config.json and restores its simulation.
QuantizedBert load_quantized_bert(const std::string& dir);

}  // namespace qsim::sim
