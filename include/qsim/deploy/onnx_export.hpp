#pragma once

// Handing a simulated model to a real runtime (AIMET's QuantSim.export layout):
//
//   <dir>/<prefix>.onnx        the float graph (opset 17), Hugging Face parameter names
//   <dir>/<prefix>.encodings   AIMET encodings JSON keyed by that graph's tensor names
//                              (activations) and initializer names (parameters)
//   <dir>/<prefix>_qdq.onnx    the same graph with QuantizeLinear/DequantizeLinear on
//                              every tensor an active quantizer acts on: what ONNX
//                              Runtime or TensorRT run as an integer model
//
//   qsim::sim::QuantSim sim(model, QuantSimConfig::aimet_default());
//   sim.compute_encodings(calibrate);
//   const auto files = qsim::deploy::export_onnx(sim, "out", "bert_w8a8_rte");
//
// Naming (docs/design.md, "Deploying"): a qsim block's result is "<module path>.output"
// (e.g. "bert.encoder.layer.0.attention.self.query.output"), steps inside a block
// "<module path>.<step>", initializers keep their state-dict names; in the QDQ model
// tensor t becomes t → QuantizeLinear → "t_quantized" → DequantizeLinear →
// "t_dequantized" (scale "t_scale", zero point "t_zero_point"), and a quantized
// weight is stored as its integer codes, "<parameter>_quantized".

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "qsim/models/bert/bert_for_task.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::deploy {

/// What a learned (range-learning) quantizer's entry in <prefix>.encodings says.
enum class LearnedEncodings {
  /// The grid its forward uses (semantics §5.3): scale Δ, offset o, min = o·Δ,
  /// max = (N + o)·Δ — the grid the QDQ model runs, so the two files agree.
  forward_grid,
  /// What AIMET 1.23 exports (§4.3, §5.6): the learned min/max with scale
  /// (max − min)/N. For signed-symmetric weights that scale is not the forward's.
  aimet,
};

struct OnnxExportOptions {
  /// Static input shapes (Qualcomm's converters need them): batch and sequence
  /// length; 0 = a dynamic dimension ("batch", "sequence"), the default.
  TORCH_ARG(int64_t, static_batch) = 0;
  TORCH_ARG(int64_t, static_sequence) = 0;
  /// Also write <prefix>_qdq.onnx.
  TORCH_ARG(bool, write_qdq) = true;
  TORCH_ARG(LearnedEncodings, learned_encodings) = LearnedEncodings::forward_grid;
  /// Debugging and checking: every tensor an active quantizer acts on also becomes
  /// a graph output (float graph: the tensor; QDQ graph: the tensor and its integer
  /// codes "t_quantized"), so a runtime can be compared quantizer by quantizer.
  TORCH_ARG(bool, expose_quantized_tensors) = false;
};

/// One active quantizer and the ONNX tensor it acts on.
struct ExportedQuantizer {
  std::string quantizer;  ///< the QuantSim slot name
  std::string tensor;     ///< the float graph's tensor (activations) or initializer (parameters)
  bool parameter = false;
};

struct OnnxExport {
  std::string onnx;       ///< <dir>/<prefix>.onnx
  std::string encodings;  ///< <dir>/<prefix>.encodings
  std::string qdq_onnx;   ///< <dir>/<prefix>_qdq.onnx (empty when not written)
  /// Every active quantizer, in forward order.
  std::vector<ExportedQuantizer> quantizers;
  /// The graph's outputs: "logits", or "start_logits" and "end_logits", or
  /// "last_hidden_state" (and "pooler_output") for a model without a head.
  std::vector<std::string> outputs;
};

/// Writes the three files for the simulated BERT `sim` wraps (a
/// models::bert::BertForTask), whatever mode it is in: the float graph is the
/// model with every quantizer off, the QDQ graph has the active quantizers with
/// their encodings (static grid: the kernel's Δ and offset, semantics §2; learned
/// grid: the forward's, §5.3). `dir` is created if missing. Both models pass ONNX's
/// checker and shape inference before anything is written; each file is written
/// atomically. Throws ConfigError before calibration, for a model or block the
/// exporter does not know, an active quantizer without an encoding, or a grid no
/// ONNX integer type holds; IoError for an unwritable `dir`.
OnnxExport export_onnx(const sim::QuantSim& sim, const std::string& dir, const std::string& prefix,
                       const OnnxExportOptions& options = {});

/// The float graph of a model that is not simulated (no encodings, no QDQ):
/// writes `path` atomically. Same errors as export_onnx where they apply.
void export_float_onnx(const models::bert::BertForTask& model, const std::string& path,
                       const OnnxExportOptions& options = {});

/// The ONNX tensor name of every active quantizer of `sim` (what export_onnx's
/// `quantizers` lists), without writing anything.
std::vector<ExportedQuantizer> onnx_tensor_names(const sim::QuantSim& sim);

}  // namespace qsim::deploy
