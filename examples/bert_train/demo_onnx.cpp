#include "demo_onnx.hpp"

#include <fmt/format.h>

#include "qsim/deploy/onnx_export.hpp"

namespace qsim::examples {

DemoOnnx::DemoOnnx(const OnnxFlags& flags, const ModelCard& card, const EvalSplit& dev, const text::Vocab& vocab,
                   const train::PredictOptions& predict)
    : flags_(flags), card_(card), dev_{dev}, vocab_(vocab), predict_(predict) {}

void DemoOnnx::fp32(models::bert::BertForTask& model) {
  if (!flags_.exporting()) return;
  const std::string path = fmt::format("{}/demo_{}_fp32.onnx", flags_.export_dir, card_.task);
  deploy::export_float_onnx(model, path);
  files_.push_back(path);
  if (flags_.ort) run_ort("FP32", path, model, 0.0);
}

void DemoOnnx::simulated(const DemoVariant& variant, const std::string& stage, const sim::QuantSim& sim,
                         models::bert::BertForTask& model) {
  if (!flags_.exporting() || variant.mixed_precision_bits > 0 || variant.peg_groups > 0) return;
  const std::string prefix = fmt::format("demo_{}_{}_{}", card_.task, variant.name, stage);
  const deploy::OnnxExport out = deploy::export_onnx(sim, flags_.export_dir, prefix);
  files_.insert(files_.end(), {out.onnx, out.encodings, out.qdq_onnx});
  if (!flags_.ort) return;
  const sim::QuantizerSlot& head = sim.slot("classifier.output_quantizer");
  const double step = head.active ? head.node->encodings().front().delta : 0.0;
  run_ort(variant.name + " " + stage, out.qdq_onnx, model, step);
}

void DemoOnnx::run_ort(const std::string& label, const std::string& onnx, models::bert::BertForTask& model,
                       double output_step) {
  const std::string twin = "qsim";  // the kept predictions' name
  const train::Predictions qsim = train::predict(model, dev_.front().data, predict_);
  const io::TensorList kept{{twin + "." + dev_.front().name + ".logits", qsim.logits.to(at::kCPU)}};
  const deploy::OrtOptions ort = deploy::OrtOptions()
                                     .batch_size(predict_.batch_size)
                                     .trim_padding(predict_.trim_padding)
                                     .threads(at::get_num_threads());
  rows_.push_back(evaluate_onnx_runtime(label, onnx, dev_, vocab_, kept, twin, output_step, ort));
  twins_.push_back(label + " (qsim)");
}

nlohmann::json DemoOnnx::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const OrtRow& row : rows_) rows.push_back(examples::to_json(row));
  return {{"files", files_}, {"onnx_runtime", rows}};
}

std::string DemoOnnx::notes() const {
  std::string out;
  if (!files_.empty()) out = fmt::format("ONNX export: {} files in {}.\n", files_.size(), flags_.export_dir);
  for (std::size_t i = 0; i < rows_.size(); ++i) out += twin_note(rows_[i], twins_[i]);
  return out;
}

}  // namespace qsim::examples
