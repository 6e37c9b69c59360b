#pragma once

// Hugging Face model directories: `config.json` plus the weights, either
// `model.safetensors` (preferred, as transformers does) or `pytorch_model.bin`.
// Only the files are handled here; mapping names onto a model (gamma/beta,
// `bert.`-less layouts) and parsing the config into a model config belong to the
// model loaders.

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "qsim/io/safetensors.hpp"

namespace qsim::io {

/// The weights file names looked for, in order of preference.
inline constexpr const char* kSafetensorsWeightsName = "model.safetensors";
inline constexpr const char* kPytorchWeightsName = "pytorch_model.bin";
inline constexpr const char* kConfigName = "config.json";

/// The path of the weights file `dir` holds (model.safetensors, else pytorch_model.bin);
/// throws qsim::IoError naming the directory and both names when neither exists.
std::string find_weights_file(const std::string& dir);

/// The state dict of the checkpoint in `dir`: from model.safetensors (in file layout
/// order) or pytorch_model.bin (in state-dict order). Throws qsim::IoError.
TensorList load_state_dict(const std::string& dir);

/// Parses a JSON file; throws qsim::IoError naming it when it is missing or invalid.
nlohmann::json read_json_file(const std::string& path);

/// Writes `config` as `dir/config.json` and `state_dict` as `dir/model.safetensors`
/// (metadata {"format": "pt"}, as transformers writes), creating `dir` if needed.
/// Throws qsim::IoError when a file cannot be written, qsim::ValueError for tensors
/// safetensors cannot hold.
void save_checkpoint(const std::string& dir, const TensorList& state_dict,
                     const nlohmann::json& config);

}  // namespace qsim::io
