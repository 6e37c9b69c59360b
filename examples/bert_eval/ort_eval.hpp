#pragma once

// ONNX Runtime rows for bert_eval and bert_demo (--export_onnx DIR --ort): the
// exported float and QDQ models run in the official ONNX Runtime over every split,
// scored exactly like qsim's rows, and compared with their qsim twin (FP32 with
// the float graph, the simulation with the QDQ graph): largest |logit| difference,
// in output steps, and how often the prediction agrees where the twin's top-2
// margin is not a near tie.

#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "qsim/deploy/onnx_export.hpp"
#include "qsim/deploy/onnx_runtime.hpp"
#include "qsim/io/safetensors.hpp"
#include "qsim/train/predict.hpp"
#include "task_eval.hpp"

namespace qsim::examples {

/// A row's outputs against its qsim twin, over one split.
struct TwinComparison {
  double max_abs_logit_diff = 0.0;
  double max_output_steps = 0.0;  ///< the same in steps of the head's output grid (0: no grid given)
  int64_t decided = 0;            ///< predictions (rows, or span starts and ends) with twin margin ≥ 0.1
  int64_t agreeing = 0;           ///< of those, the same argmax
};

struct OrtRow {
  std::string label;                                ///< e.g. "W8A8 int8 (ONNX Runtime 1.31.1, QDQ)"
  std::string model;                                ///< the .onnx file it ran
  std::string twin;                                 ///< the qsim row it is compared with (kept label)
  std::map<std::string, Scores> scores;             ///< by split
  std::map<std::string, TwinComparison> compared;   ///< by split
  double seconds = 0.0;                             ///< wall time of the runs (session creation included)
};

/// The near-tie threshold: predictions whose twin's two best logits are closer
/// than this are not counted in TwinComparison::decided.
inline constexpr double kNearTieMargin = 0.1;

/// Compares `got` with `twin` (same fields defined); `output_step` = the head's
/// output Δ (0: not reported).
TwinComparison compare_with_twin(const train::Predictions& got, const train::Predictions& twin, double output_step);

/// The predictions evaluate_all kept under "<label>.<split>.<logits|start_logits|end_logits>".
train::Predictions kept_predictions(const io::TensorList& kept, const std::string& label, const std::string& split);

/// Runs `model` in ORT (ORT's batches of `options.batch_size()` rows) on every split,
/// scores it and compares it with `twin_label`'s kept predictions. The row is named
/// "`label` (ONNX Runtime <version>)", with ", QDQ" for a *_qdq.onnx model.
OrtRow evaluate_onnx_runtime(const std::string& label, const std::string& model, const std::vector<EvalSplit>& splits,
                             const text::Vocab& vocab, const io::TensorList& kept, const std::string& twin_label,
                             double output_step, const deploy::OrtOptions& options);

nlohmann::json to_json(const OrtRow& row);
/// One Markdown note line per row: its differences to `twin` and the agreement.
std::string twin_note(const OrtRow& row, const std::string& twin);

/// The flags bert_eval and bert_demo share:
///   --export_onnx DIR       write <prefix>.onnx, .encodings and _qdq.onnx (deploy::export_onnx)
///   --ort                   also run both models in ONNX Runtime and add their rows
///   --onnx_static_shape     export with static [batch, sequence] (Qualcomm's tools)
struct OnnxFlags {
  std::string export_dir;
  bool ort = false;
  bool static_shape = false;

  void add_to(CLI::App& app);
  bool exporting() const { return !export_dir.empty(); }
  /// ConfigError naming the flag: --ort or --onnx_static_shape without --export_onnx,
  /// --ort with static shapes.
  void validate() const;
};

/// What --export_onnx [--ort] produced for one simulation.
struct OnnxRun {
  deploy::OnnxExport files;
  std::string sim_label;     ///< the simulation's row name, e.g. "W8A8"
  std::vector<OrtRow> rows;  ///< FP32 and the QDQ model, with --ort
  nlohmann::json to_json() const;
  std::string notes() const;
};

/// Where the ONNX Runtime rows run: the splits, and the qsim predictions kept
/// under "fp32" and under the simulation's label (evaluate_all's names).
struct OrtEvalInputs {
  const std::vector<EvalSplit>& splits;
  const text::Vocab& vocab;
  const io::TensorList& kept;
  deploy::OrtOptions options;  ///< batch size, threads, trimming
};

/// Exports `sim`'s model under `prefix` into flags.export_dir (static shapes:
/// `static_batch` × `static_sequence`) and, with --ort, runs the float graph (vs
/// qsim FP32, kept as "fp32") and the QDQ graph with ORT's integer kernels (vs the
/// simulation, kept as `twin_label`), the latter's row named "`row_label` int8 (...)".
OnnxRun export_and_run_onnx(const OnnxFlags& flags, const sim::QuantSim& sim, const std::string& prefix,
                            int64_t static_batch, int64_t static_sequence, const std::string& twin_label,
                            const std::string& row_label, const OrtEvalInputs& eval);

}  // namespace qsim::examples
