#include "ort_eval.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"

namespace qsim::examples {
namespace {

// Predictions of `logits` [N, K] (K ≥ 2) whose twin margin is decided, and how many agree.
void count_agreement(const at::Tensor& got, const at::Tensor& twin, TwinComparison& out) {
  if (twin.dim() != 2 || twin.size(1) < 2) return;  // regression: no argmax
  const auto top = twin.topk(2, 1);
  const at::Tensor margin = std::get<0>(top).select(1, 0) - std::get<0>(top).select(1, 1);
  const at::Tensor decided = margin >= kNearTieMargin;
  const at::Tensor same = got.argmax(1) == twin.argmax(1);
  out.decided += decided.sum().item<int64_t>();
  out.agreeing += (decided & same).sum().item<int64_t>();
}

}  // namespace

TwinComparison compare_with_twin(const train::Predictions& got, const train::Predictions& twin, double output_step) {
  TwinComparison out;
  const std::pair<const at::Tensor&, const at::Tensor&> pairs[] = {
      {got.logits, twin.logits}, {got.start_logits, twin.start_logits}, {got.end_logits, twin.end_logits}};
  for (const auto& [a, b] : pairs) {
    if (!b.defined()) continue;
    QSIM_CHECK(a.defined() && a.sizes() == b.sizes(), ValueError, "onnx runtime: outputs of shape {} vs qsim's {}",
               a.defined() ? c10::str(a.sizes()) : std::string("(none)"), c10::str(b.sizes()));
    out.max_abs_logit_diff = std::max(out.max_abs_logit_diff, (a - b).abs().max().item<double>());
    count_agreement(a, b, out);
  }
  if (output_step > 0.0) out.max_output_steps = out.max_abs_logit_diff / output_step;
  return out;
}

train::Predictions kept_predictions(const io::TensorList& kept, const std::string& label, const std::string& split) {
  train::Predictions p;
  for (const auto& [name, tensor] : kept) {
    const std::string prefix = label + "." + split + ".";
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string field = name.substr(prefix.size());
    if (field == "logits") p.logits = tensor;
    if (field == "start_logits") p.start_logits = tensor;
    if (field == "end_logits") p.end_logits = tensor;
  }
  QSIM_CHECK(p.logits.defined() || p.start_logits.defined(), ValueError,
             "onnx runtime: no kept '{}' predictions of split '{}' to compare with", label, split);
  return p;
}

OrtRow evaluate_onnx_runtime(const std::string& label, const std::string& model, const std::vector<EvalSplit>& splits,
                             const text::Vocab& vocab, const io::TensorList& kept, const std::string& twin_label,
                             double output_step, const deploy::OrtOptions& options) {
  OrtRow row{label, model, twin_label, {}, {}, 0.0};
  const auto start = std::chrono::steady_clock::now();
  for (const EvalSplit& split : splits) {
    logger()->info("onnx runtime: {} on {} ({} inputs, optimization {})", label, split.name, split.data.size(),
                   deploy::to_string(options.optimization()));
    const deploy::OrtResult result = deploy::run_onnx_runtime(model,
                                                              {{"input_ids", split.data.input_ids},
                                                               {"attention_mask", split.data.attention_mask},
                                                               {"token_type_ids", split.data.token_type_ids}},
                                                              options);
    train::Predictions p;
    const auto output = [&](const char* name) {
      const auto it = result.outputs.find(name);
      return it == result.outputs.end() ? at::Tensor() : it->second;
    };
    p.logits = output("logits");
    p.start_logits = output("start_logits");
    p.end_logits = output("end_logits");
    row.scores[split.name] = score_predictions(split, p, vocab);
    row.compared[split.name] = compare_with_twin(p, kept_predictions(kept, twin_label, split.name), output_step);
    if (row.label == label) {  // "... (ONNX Runtime 1.31.1)", ", QDQ" for the quantized graph
      const bool qdq = model.size() >= 9 && model.compare(model.size() - 9, 9, "_qdq.onnx") == 0;
      row.label += fmt::format(" (ONNX Runtime {}{})", result.version, qdq ? ", QDQ" : "");
    }
  }
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return row;
}

nlohmann::json to_json(const OrtRow& row) {
  nlohmann::json compared = nlohmann::json::object();
  for (const auto& [split, c] : row.compared) {
    compared[split] = {{"max_abs_logit_diff", c.max_abs_logit_diff},
                       {"max_output_steps", c.max_output_steps},
                       {"decided_predictions", c.decided},
                       {"agreeing_predictions", c.agreeing},
                       {"near_tie_margin", kNearTieMargin}};
  }
  return {{"label", row.label}, {"model", row.model}, {"scores", row.scores}, {"vs_qsim", compared},
          {"seconds", row.seconds}};
}

std::string twin_note(const OrtRow& row, const std::string& twin) {
  std::string note = fmt::format("{} vs {}:", row.label, twin);
  for (const auto& [split, c] : row.compared) {
    note += fmt::format(" {} max |logit diff| {:.4g}", split, c.max_abs_logit_diff);
    if (c.max_output_steps > 0.0) note += fmt::format(" ({:.1f} output steps)", c.max_output_steps);
    if (c.decided > 0) {
      note += fmt::format(", same prediction on {}/{} ({:.2f} %) where the margin is ≥ {}", c.agreeing, c.decided,
                          100.0 * static_cast<double>(c.agreeing) / static_cast<double>(c.decided), kNearTieMargin);
    }
    note += ";";
  }
  return note + fmt::format(" {:.0f} s\n", row.seconds);
}

void OnnxFlags::add_to(CLI::App& app) {
  app.add_option("--export_onnx", export_dir,
                 "write <model>.onnx, <model>.encodings and <model>_qdq.onnx of the evaluated simulation to DIR");
  app.add_flag("--ort", ort, "with --export_onnx: also evaluate both ONNX models in ONNX Runtime (scripts/ort)");
  app.add_flag("--onnx_static_shape", static_shape,
               "with --export_onnx: static [batch, sequence] inputs (eval batch size, max_seq_length)");
}

void OnnxFlags::validate() const {
  QSIM_CHECK(exporting() || (!ort && !static_shape), ConfigError, "{} needs --export_onnx DIR",
             ort ? "--ort" : "--onnx_static_shape");
  QSIM_CHECK(!(ort && static_shape), ConfigError,
             "--ort runs the dynamic-shape export (the last batch is shorter): drop --onnx_static_shape");
}

nlohmann::json OnnxRun::to_json() const {
  nlohmann::json rows_json = nlohmann::json::array();
  for (const OrtRow& row : rows) rows_json.push_back(examples::to_json(row));
  return {{"onnx", files.onnx}, {"encodings", files.encodings}, {"qdq_onnx", files.qdq_onnx},
          {"quantized_tensors", files.quantizers.size()}, {"onnx_runtime", rows_json}};
}

std::string OnnxRun::notes() const {
  std::string out = fmt::format("ONNX export: {}, {}, {} ({} quantized tensors).\n", files.onnx, files.encodings,
                                files.qdq_onnx, files.quantizers.size());
  for (const OrtRow& row : rows) out += twin_note(row, row.twin == "fp32" ? "FP32 (qsim)" : sim_label + " (qsim)");
  return out;
}

namespace {

// The head's output step, to state logit differences in steps of its grid.
double head_output_step(const sim::QuantSim& sim) {
  for (const char* name : {"classifier.output_quantizer", "qa_outputs.output_quantizer"}) {
    for (const sim::QuantizerSlot* slot : sim.active_quantizers()) {
      if (slot->name == name) return slot->node->encodings().front().delta;
    }
  }
  return 0.0;
}

}  // namespace

OnnxRun export_and_run_onnx(const OnnxFlags& flags, const sim::QuantSim& sim, const std::string& prefix,
                            int64_t static_batch, int64_t static_sequence, const std::string& twin_label,
                            const std::string& row_label, const OrtEvalInputs& eval) {
  OnnxRun run;
  run.sim_label = row_label;
  deploy::OnnxExportOptions options;
  if (flags.static_shape) options.static_batch(static_batch).static_sequence(static_sequence);
  run.files = deploy::export_onnx(sim, flags.export_dir, prefix, options);
  if (!flags.ort) return run;
  run.rows.push_back(evaluate_onnx_runtime("FP32", run.files.onnx, eval.splits, eval.vocab, eval.kept, "fp32", 0.0,
                                           eval.options));
  run.rows.push_back(evaluate_onnx_runtime(row_label + " int8", run.files.qdq_onnx, eval.splits, eval.vocab,
                                           eval.kept, twin_label, head_output_step(sim), eval.options));
  return run;
}

}  // namespace qsim::examples
