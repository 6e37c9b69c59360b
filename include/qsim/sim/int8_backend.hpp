#pragma once

// Real integer inference for a simulated model: every Linear whose input, weight and
// output lie on 8-bit grids runs as an integer GEMM — oneDNN's u8·s8 matmul where
// qsim is built with oneDNN, else LibTorch's quantized CPU backend — with the
// simulation's own encodings: input as u8 codes (zero point = −offset), weight as s8
// (symmetric, zero point 0), int32 accumulation, the float bias added at scale Δx·Δw,
// and the result requantized to the output quantizer's grid by the backend.
// Everything else (embeddings, softmax, LayerNorm, residual adds, the attention
// products) stays as simulated: float arithmetic on quantized tensors, the same on
// both sides. With oneDNN, each FFN runs on codes from end to end where both its
// Linears are integer: the first hands its u8 output on as a quint8 code tensor
// (quant/codes.hpp), the GELU maps it by a 256-entry table of its own simulated
// values (exact), and the second reads it without a float round trip. Where the simulation and the integer model differ is thus confined to
// the Linears: float vs int32 accumulation, the bias rounded to int32, and the
// backend's requantization — at most one step of the output grid per element
// (tests/sim/int8_backend_test.cpp).

#include <map>
#include <string>
#include <vector>

#include "qsim/models/bert/bert_for_task.hpp"

namespace qsim::sim {

struct Int8Options {
  /// Pass codes from an FFN's first Linear through its GELU (a table) into the
  /// second (oneDNN builds); false converts each value back to float in between.
  bool codes_between_linears = true;
};

struct Int8Conversion {
  /// Linears now computed with integers, by module name.
  std::vector<std::string> integer;
  /// Linears left to the simulation, with the reason (e.g. "output quantizer off").
  std::map<std::string, std::string> kept_float;
  /// Activation blocks (the FFNs' GELUs) now computed on codes, by module name.
  std::vector<std::string> on_codes;
};

/// Attaches an integer kernel to every Linear of `model` that qualifies; needs the
/// model in QuantSim's quantized mode with static encodings (after compute_encodings
/// or load_encodings). The kernels read weights and encodings now: call again after
/// changing either. Without oneDNN, throws qsim::ConfigError when LibTorch has no
/// quantized CPU engine.
Int8Conversion convert_to_int8(models::bert::BertForTask& model, const Int8Options& options = {});

/// Detaches every integer kernel (Linears and GELU tables): the model is the simulation again.
void remove_int8(models::bert::BertForTask& model);

/// The engine the integer Linears run on: "onednn-matmul" (built with oneDNN), else
/// LibTorch's quantized engine ("onednn", "fbgemm", "qnnpack").
std::string int8_engine();

}  // namespace qsim::sim
