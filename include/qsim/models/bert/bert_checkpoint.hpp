#pragma once

// Hugging Face checkpoint directories ↔ BertForTask.
//
// Loading maps state-dict keys the way transformers' from_pretrained accepts them:
//   - `*.position_ids` (a buffer in transformers < 4.31) is ignored;
//   - LayerNorm `gamma` / `beta` (the Google-converted checkpoints) mean `weight` / `bias`;
//   - a key without the `bert.` prefix (a BertModel checkpoint) is matched to
//     `bert.<key>` when the model has it.
// Loading is strict: every model parameter must be present once, with its shape, and
// no other key may remain; the error lists the offending keys by name. Quantizer state
// (learned encoding ranges) is never part of a Hugging Face state dict.

#include <string>

#include <torch/nn/module.h>

#include "qsim/io/safetensors.hpp"
#include "qsim/models/bert/bert_for_task.hpp"

namespace qsim::models::bert {

/// The model's weights under their Hugging Face names, in registration (HF) order;
/// quantizer submodules are skipped. The tensors alias the parameters.
io::TensorList hf_state_dict(const torch::nn::Module& model);

/// Copies `state` into `model` (converting floating dtypes to the parameter's).
/// `origin` (e.g. the weights file) prefixes every error. Throws qsim::IoError naming
/// the missing, unexpected, duplicated, mis-shaped or non-floating keys.
void load_hf_state_dict(torch::nn::Module& model, const io::TensorList& state, const std::string& origin);

/// Reads `dir`/config.json and the weights (model.safetensors, else pytorch_model.bin)
/// into a new model in eval mode, masking with `mask`.
/// Throws qsim::IoError (missing/corrupt files, key mismatches) or qsim::ConfigError.
BertForTask load_pretrained(const std::string& dir, const AttentionMask& mask = AttentionMask::hf());

/// Writes `dir`/config.json and `dir`/model.safetensors (creating `dir`), loadable by
/// load_pretrained and by transformers' from_pretrained.
void save_pretrained(const BertForTaskImpl& model, const std::string& dir);

}  // namespace qsim::models::bert
