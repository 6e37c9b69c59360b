#pragma once

// ONNX Runtime as the independent check of an export: runs a model in the official
// runtime (npm onnxruntime-node, CPU) through scripts/ort/run_model.js, a Node
// process, on inputs qsim writes as safetensors, and reads the outputs back.
// scripts/setup.sh installs the package; Node.js must be on the PATH.
//
//   auto out = qsim::deploy::run_onnx_runtime("out/model_qdq.onnx",
//       {{"input_ids", ids}, {"attention_mask", mask}, {"token_type_ids", types}},
//       qsim::deploy::OrtOptions().optimization(qsim::deploy::OrtOptimization::disabled));
//   at::Tensor logits = out.outputs.at("logits");

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/ATen.h>
#include <torch/arg.h>

namespace qsim::deploy {

/// ORT's graph optimization levels. `disabled` runs the graph as written (a QDQ
/// model is then a float simulation); `all` fuses QDQ into integer kernels.
enum class OrtOptimization { disabled, basic, extended, all };

std::string_view to_string(OrtOptimization level);
/// "disabled", "basic", "extended" or "all"; ConfigError naming `text` otherwise.
OrtOptimization parse_ort_optimization(std::string_view text);

struct OrtOptions {
  TORCH_ARG(OrtOptimization, optimization) = OrtOptimization::all;
  /// Intra-op threads (inter-op: 1, sequential execution).
  TORCH_ARG(int, threads) = 2;
  /// Runs the inputs in slices of this many rows (dimension 0); 0 = all at once.
  TORCH_ARG(int64_t, batch_size) = 0;
  /// Cuts each slice's inputs to its longest attention_mask row, as train::
  /// PredictOptions::trim_padding does (models whose outputs have no sequence axis).
  TORCH_ARG(bool, trim_padding) = false;
  /// Timed runs of the whole input after `warmup` untimed ones (0: one run).
  TORCH_ARG(int, repeat) = 0;
  TORCH_ARG(int, warmup) = 1;
  /// Where ORT saves the graph it optimized (to see what ran as integers); empty = not saved.
  TORCH_ARG(std::string, optimized_model);
  /// The runner script; empty = default_ort_runner().
  TORCH_ARG(std::string, runner);
};

struct OrtResult {
  std::map<std::string, at::Tensor> outputs;  ///< every graph output, by name
  double load_ms = 0.0;                       ///< session creation (graph optimization included)
  std::vector<double> runs_ms;                ///< the timed runs (OrtOptions::repeat)
  std::string version;                        ///< ONNX Runtime's version
};

/// Runs `model` on `inputs` (by graph input name; int64, float32, ...). Throws
/// IoError when Node, the runner or onnxruntime-node is missing (naming what to
/// install) or ORT rejects the model (with ORT's message).
OrtResult run_onnx_runtime(const std::string& model, const std::map<std::string, at::Tensor>& inputs,
                           const OrtOptions& options = {});

/// $QSIM_ORT_RUNNER if set, else run_model.js in the scripts/ort folder of the
/// checkout this library was built from.
std::string default_ort_runner();

/// Whether run_onnx_runtime can work here (Node on the PATH, the runner and its
/// onnxruntime-node package present); `why` receives the reason when not.
bool onnx_runtime_available(std::string* why = nullptr);

}  // namespace qsim::deploy
