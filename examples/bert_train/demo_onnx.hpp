#pragma once

// bert_demo --export_onnx DIR [--ort]: the trained model's float graph and the
// plain simulations (W8A8 and the lower setting, after PTQ and after QAT) as ONNX
// exports (deploy::export_onnx, prefix demo_<task>_<variant>_<stage>); with --ort
// each runs in ONNX Runtime on the dev split, batched and trimmed as qsim's rows
// are, next to its qsim twin (the same model in qsim).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "demo_variants.hpp"
#include "ort_eval.hpp"
#include "task_eval.hpp"

namespace qsim::examples {

class DemoOnnx {
 public:
  DemoOnnx(const OnnxFlags& flags, const ModelCard& card, const EvalSplit& dev, const text::Vocab& vocab,
           const train::PredictOptions& predict);

  /// The trained FP32 model: its float graph, and with --ort its row.
  void fp32(models::bert::BertForTask& model);
  /// A variant's simulation after `stage`; the fixes (MP, PEG) are not exported.
  void simulated(const DemoVariant& variant, const std::string& stage, const sim::QuantSim& sim,
                 models::bert::BertForTask& model);

  const std::vector<OrtRow>& rows() const { return rows_; }
  nlohmann::json to_json() const;
  std::string notes() const;

 private:
  // qsim's predictions on dev (the row `label` of the table), then ORT's row for `onnx`.
  void run_ort(const std::string& label, const std::string& onnx, models::bert::BertForTask& model,
               double output_step);

  const OnnxFlags& flags_;
  const ModelCard& card_;
  std::vector<EvalSplit> dev_;
  const text::Vocab& vocab_;
  train::PredictOptions predict_;
  std::vector<std::string> files_;
  std::vector<OrtRow> rows_;
  std::vector<std::string> twins_;  // each row's qsim twin, as the table names it
};

}  // namespace qsim::examples
