#include "qsim/sim/int8_backend.hpp"

#include <cmath>
#include <optional>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/models/bert/linear_inputs.hpp"
#include "qsim/quant/range_learning.hpp"

namespace qsim::sim {
namespace {

// A per-tensor 8-bit static grid with 256 levels: what quint8 / qint8 represent.
std::optional<quant::Encoding> eight_bit_grid(const quant::QuantizerNode& node, std::string& why, const char* what) {
  if (!node || !node->enabled()) {
    why = fmt::format("{} quantizer off", what);
    return std::nullopt;
  }
  const quant::QuantizerOptions& o = node->options;
  const bool learned = o.grid() == quant::Grid::learned_grid;
  if (o.bitwidth() != 8 || o.channel_axis().has_value() || o.embedding_groups() > 0 ||
      o.symmetry() == quant::Symmetry::strict_symmetric || (!learned && !node->has_encoding())) {
    why = fmt::format("{} quantizer is not a per-tensor 8-bit grid of 256 levels", what);
    return std::nullopt;
  }
  if (!learned) return node->encoding();
  // Range learning (QAT): the grid its forward uses (§5.3, on the gated range), not
  // the exported encoding, which differs for signed-symmetric weights (Δ = A/127).
  const at::Tensor min = node->encoding_min.detach().to(at::kCPU).clone();
  const at::Tensor max = node->encoding_max.detach().to(at::kCPU).clone();
  quant::gate_learned_range_(min, max);
  const quant::LearnedGridParams grid = quant::learned_grid_params(min, max, 8, o.symmetry());
  quant::Encoding e;
  e.delta = grid.delta.item<float>();
  e.offset = grid.offset.item<float>();
  if (grid.steps != 255.0 || e.offset != std::round(e.offset)) {
    why = fmt::format("{} quantizer's learned grid has no integer zero point", what);
    return std::nullopt;
  }
  return e;
}

c10::intrusive_ptr<LinearPackedParamsBase> prepack(const at::Tensor& weight, const at::Tensor& bias) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("quantized::linear_prepack", "")
                             .typed<c10::intrusive_ptr<LinearPackedParamsBase>(at::Tensor, c10::optional<at::Tensor>)>();
  return op.call(weight, bias.defined() ? c10::optional<at::Tensor>(bias) : c10::nullopt);
}

// One Linear as integers: quint8 input on the source grid, qint8 weight, requantized
// to the output grid. Falls back to the simulation when its quantizers are switched
// off (QuantSim's FP32 mode) or the input is not float.
class Int8Linear : public nn::LinearKernel {
 public:
  Int8Linear(nn::LinearImpl& linear, const quant::Encoding& input, const quant::Encoding& weight,
             const quant::Encoding& output)
      : input_(input), output_(output) {
    torch::NoGradGuard no_grad;
    const at::Tensor on_grid = linear.weight_quantizer(linear.weight);  // the simulation's weight values
    const at::Tensor w = at::quantize_per_tensor(on_grid.contiguous(), weight.delta, 0, at::kQInt8);
    at::Tensor b = linear.bias.defined() ? linear.bias_quantizer(linear.bias).contiguous() : at::Tensor();
    packed_ = prepack(w, b);
  }

  bool active(const nn::LinearImpl& linear) const override { return linear.output_quantizer->enabled(); }

  std::optional<torch::Tensor> forward(nn::LinearImpl& linear, const torch::Tensor& x) override {
    if (!active(linear) || x.scalar_type() != at::kFloat || !x.device().is_cpu()) return std::nullopt;
    const auto zero_point = [](const quant::Encoding& e) { return static_cast<int64_t>(std::lround(-e.offset)); };
    const at::Tensor xq = at::quantize_per_tensor(x.contiguous(), input_.delta, zero_point(input_), at::kQUInt8);
    return packed_->apply(xq, output_.delta, zero_point(output_)).dequantize();
  }

 private:
  quant::Encoding input_, output_;
  c10::intrusive_ptr<LinearPackedParamsBase> packed_;
};

// The reason `linear` cannot run as integers, or empty.
std::string check_int8(models::bert::LinearInput& entry, quant::Encoding& in, quant::Encoding& w,
                       quant::Encoding& out) {
  std::string why;
  nn::LinearImpl& linear = *entry.linear;
  if (!entry.source) return "input not on a quantization grid";
  const auto input = eight_bit_grid(entry.source, why, "input");
  if (!input) return why;
  if (input->offset > 0 || input->offset < -255) return "input grid does not fit quint8 (zero point outside [0, 255])";
  const auto weight = eight_bit_grid(linear.weight_quantizer, why, "weight");
  if (!weight) return why;
  if (weight->offset != -128) return "weight grid is not symmetric (qint8 with zero point 0)";
  const auto output = eight_bit_grid(linear.output_quantizer, why, "output");
  if (!output) return why;
  if (output->offset > 0 || output->offset < -255) return "output grid does not fit quint8";
  in = *input;
  w = *weight;
  out = *output;
  return {};
}

}  // namespace

std::string int8_engine() { return c10::toString(at::globalContext().qEngine()); }

Int8Conversion convert_to_int8(models::bert::BertForTask& model) {
  QSIM_CHECK(at::globalContext().qEngine() != at::QEngine::NoQEngine, ConfigError,
             "int8 backend: this LibTorch has no quantized CPU engine (FBGEMM, QNNPACK or oneDNN)");
  Int8Conversion report;
  for (auto& entry : models::bert::linear_inputs(model)) {
    quant::Encoding in, w, out;
    const std::string why = check_int8(entry, in, w, out);
    if (!why.empty()) {
      entry.linear->kernel.reset();
      report.kept_float[entry.name] = why;
      continue;
    }
    entry.linear->kernel = std::make_shared<Int8Linear>(*entry.linear, in, w, out);
    report.integer.push_back(entry.name);
  }
  logger()->info("int8 backend ({}): {} Linears as integer GEMMs, {} kept in float", int8_engine(),
                 report.integer.size(), report.kept_float.size());
  return report;
}

void remove_int8(models::bert::BertForTask& model) {
  for (auto& entry : models::bert::linear_inputs(model)) entry.linear->kernel.reset();
}

}  // namespace qsim::sim
