#include "qsim/sim/int8_backend.hpp"

#include <cmath>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/models/bert/linear_inputs.hpp"
#include "qsim/quant/range_learning.hpp"

#ifdef QSIM_HAVE_DNNL
#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "kernels/cpu/quantize_u8.hpp"
#endif

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

#ifdef QSIM_HAVE_DNNL
// One Linear on oneDNN's integer matmul: the input quantized to u8 on the source
// grid, s8 weight codes (reordered once into the layout the primitive wants), int32
// accumulation with VNNI where the CPU has it, and the requantization to the output
// grid fused into the primitive: dst = round(Δx·Δw/Δy · (acc + b/(Δx·Δw))) + zp_y,
// saturated to u8 (oneDNN applies the bias before the output scale). One primitive
// per row count, cached.
class DnnlInt8Linear : public nn::LinearKernel {
 public:
  DnnlInt8Linear(nn::LinearImpl& linear, const quant::Encoding& input, const quant::Encoding& weight,
                 const quant::Encoding& output)
      : input_(input), output_(output), in_(linear.options.in_features()), out_(linear.options.out_features()) {
    torch::NoGradGuard no_grad;
    const at::Tensor on_grid = linear.weight_quantizer(linear.weight);  // the simulation's weight values
    codes_ = at::round(on_grid / weight.delta).clamp(-128, 127).to(at::kChar).contiguous();  // [out, in]
    const double acc_scale = input.delta * weight.delta;
    if (linear.bias.defined()) {
      bias_ = (linear.bias_quantizer(linear.bias).to(at::kFloat) / acc_scale).contiguous().reshape({1, out_});
    }
    scale_ = static_cast<float>(acc_scale / output.delta);
  }

  bool active(const nn::LinearImpl& linear) const override { return linear.output_quantizer->enabled(); }

  std::optional<torch::Tensor> forward(nn::LinearImpl& linear, const torch::Tensor& x) override {
    if (!active(linear) || x.scalar_type() != at::kFloat || !x.device().is_cpu() || x.size(-1) != in_) return std::nullopt;
    const int64_t rows = x.numel() / in_;
    const at::Tensor xf = x.contiguous();
    const at::Tensor xq = at::empty({rows, in_}, at::kByte), yq = at::empty({rows, out_}, at::kByte);
    const float* src = xf.data_ptr<float>();
    uint8_t* codes = xq.data_ptr<uint8_t>();
    const auto in_delta = static_cast<float>(input_.delta);
    const auto in_zp = static_cast<int32_t>(zero_point(input_));
    at::parallel_for(0, rows * in_, 1 << 14, [&](int64_t begin, int64_t end) {
      kernels::cpu::quantize_u8(src + begin, codes + begin, end - begin, in_delta, in_zp);
    });
    if (rows > 0) run(rows, codes, yq.data_ptr<uint8_t>());
    std::vector<int64_t> shape = x.sizes().vec();
    shape.back() = out_;
    at::Tensor y = at::empty(shape, at::kFloat);
    float* out = y.data_ptr<float>();
    const uint8_t* result = yq.data_ptr<uint8_t>();
    const auto out_delta = static_cast<float>(output_.delta);
    const auto out_zp = static_cast<int32_t>(zero_point(output_));
    at::parallel_for(0, rows * out_, 1 << 14, [&](int64_t begin, int64_t end) {
      kernels::cpu::dequantize_u8(result + begin, out + begin, end - begin, out_delta, out_zp);
    });
    return y;
  }

 private:
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  struct Prepared {
    dnnl::matmul primitive;
    dnnl::memory weights;  // in the primitive's layout
  };

  static int64_t zero_point(const quant::Encoding& e) { return static_cast<int64_t>(std::lround(-e.offset)); }

  const Prepared& prepared(int64_t rows) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = cache_.find(rows);
    if (it != cache_.end()) return it->second;
    const dnnl::memory::desc src({rows, in_}, dt::u8, tag::ab);
    const dnnl::memory::desc wei({in_, out_}, dt::s8, tag::any);
    const dnnl::memory::desc dst({rows, out_}, dt::u8, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {scale_});
    attr.set_zero_points(DNNL_ARG_SRC, 0, {static_cast<int32_t>(zero_point(input_))});
    attr.set_zero_points(DNNL_ARG_DST, 0, {static_cast<int32_t>(zero_point(output_))});
    const dnnl::matmul::desc desc = bias_.defined() ? dnnl::matmul::desc(src, wei, dnnl::memory::desc({1, out_}, dt::f32, tag::ab), dst)
                                                    : dnnl::matmul::desc(src, wei, dst);
    const dnnl::matmul::primitive_desc pd(desc, attr, engine_);
    // The weight codes, stored [out, in] = [in, out] in "ba" order, reordered once per layout.
    dnnl::memory plain({{in_, out_}, dt::s8, tag::ba}, engine_, codes_.data_ptr());
    dnnl::memory weights = plain;
    if (pd.weights_desc() != plain.get_desc()) {
      weights = dnnl::memory(pd.weights_desc(), engine_);
      dnnl::reorder(plain, weights).execute(stream_, plain, weights);
      stream_.wait();
    }
    return cache_.emplace(rows, Prepared{dnnl::matmul(pd), weights}).first->second;
  }

  void run(int64_t rows, void* src, void* dst) {
    const Prepared& p = prepared(rows);
    dnnl::memory src_m({{rows, in_}, dt::u8, tag::ab}, engine_, src);
    dnnl::memory dst_m({{rows, out_}, dt::u8, tag::ab}, engine_, dst);
    std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src_m}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, dst_m}};
    if (bias_.defined()) args.emplace(DNNL_ARG_BIAS, dnnl::memory({{1, out_}, dt::f32, tag::ab}, engine_, bias_.data_ptr()));
    p.primitive.execute(stream_, args);
    stream_.wait();
  }

  quant::Encoding input_, output_;
  int64_t in_, out_;
  at::Tensor codes_, bias_;
  float scale_ = 1.0f;
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  std::mutex mutex_;
  std::unordered_map<int64_t, Prepared> cache_;
};
#endif

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

#ifdef QSIM_HAVE_DNNL
std::string int8_engine() { return "onednn-matmul"; }
#else
std::string int8_engine() { return c10::toString(at::globalContext().qEngine()); }
#endif

Int8Conversion convert_to_int8(models::bert::BertForTask& model) {
#ifndef QSIM_HAVE_DNNL
  QSIM_CHECK(at::globalContext().qEngine() != at::QEngine::NoQEngine, ConfigError,
             "int8 backend: this LibTorch has no quantized CPU engine (FBGEMM, QNNPACK or oneDNN)");
#endif
  Int8Conversion report;
  for (auto& entry : models::bert::linear_inputs(model)) {
    quant::Encoding in, w, out;
    const std::string why = check_int8(entry, in, w, out);
    if (!why.empty()) {
      entry.linear->kernel.reset();
      report.kept_float[entry.name] = why;
      continue;
    }
#ifdef QSIM_HAVE_DNNL
    entry.linear->kernel = std::make_shared<DnnlInt8Linear>(*entry.linear, in, w, out);
#else
    entry.linear->kernel = std::make_shared<Int8Linear>(*entry.linear, in, w, out);
#endif
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
