#include "qsim/sim/int8_backend.hpp"

#include <algorithm>
#include <array>
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
#include "qsim/quant/codes.hpp"
#include "qsim/quant/range_learning.hpp"

#ifdef QSIM_HAVE_DNNL
#include <ATen/Parallel.h>
#include <oneapi/dnnl/dnnl.hpp>
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
      : input_(grid(input)), output_(grid(output)), in_(linear.options.in_features()),
        out_(linear.options.out_features()) {
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

  /// Float input, or a code tensor on this Linear's input grid (read as is).
  std::optional<torch::Tensor> forward(nn::LinearImpl& linear, const torch::Tensor& x) override {
    if (!active(linear) || !x.device().is_cpu() || x.dim() == 0 || x.size(-1) != in_) return std::nullopt;
    at::Tensor codes;
    if (quant::is_code_tensor(x)) {
      if (!(quant::grid_of(x) == input_)) return std::nullopt;
      codes = x.contiguous();
    } else if (x.scalar_type() == at::kFloat) {
      codes = quant::float_to_codes(x, input_);
    } else {
      return std::nullopt;
    }
    const int64_t rows = x.numel() / in_;
    std::vector<int64_t> shape = x.sizes().vec();
    shape.back() = out_;
    const at::Tensor yq = at::empty(shape, at::kByte);
    if (rows > 0) run(rows, codes.data_ptr(), yq.data_ptr<uint8_t>());
    const at::Tensor y = quant::as_code_tensor(yq, output_);
    return emit_codes ? y : quant::codes_to_float(y);
  }

  quant::CodeGrid input_grid() const { return input_; }
  quant::CodeGrid output_grid() const { return output_; }

  /// Hand the output on as codes (its consumer takes them: an FFN's GELU table).
  bool emit_codes = false;

 private:
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  struct Prepared {
    dnnl::matmul primitive;
    dnnl::memory weights;  // in the primitive's layout
  };

  static int64_t zero_point(const quant::Encoding& e) { return static_cast<int64_t>(std::lround(-e.offset)); }
  static quant::CodeGrid grid(const quant::Encoding& e) {
    return {static_cast<float>(e.delta), static_cast<int32_t>(zero_point(e))};
  }

  const Prepared& prepared(int64_t rows) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = cache_.find(rows);
    if (it != cache_.end()) return it->second;
    const dnnl::memory::desc src({rows, in_}, dt::u8, tag::ab);
    const dnnl::memory::desc wei({in_, out_}, dt::s8, tag::any);
    const dnnl::memory::desc dst({rows, out_}, dt::u8, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {scale_});
    attr.set_zero_points(DNNL_ARG_SRC, 0, {input_.zero_point});
    attr.set_zero_points(DNNL_ARG_DST, 0, {output_.zero_point});
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

  quant::CodeGrid input_, output_;  // u8 grids: Δ and zero point −o
  int64_t in_, out_;
  at::Tensor codes_, bias_;
  float scale_ = 1.0f;
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  std::mutex mutex_;
  std::unordered_map<int64_t, Prepared> cache_;
};

// The FFN's GELU on codes. Between two integer Linears its input is the first one's
// output codes and its output is read by the second as codes, so the whole block is
// a map of 256 codes to 256 codes: the table is the simulated GELU itself (input
// slot, exact erf, output quantizer) run once on the 256 values of the input grid.
// Exact by construction — the simulation maps every element through the same
// elementwise function — and it skips a dequantize, the erf and a quantize per
// element of the widest activation in the model.
using CodeTable = std::array<uint8_t, 256>;

// The table of `gelu` from grid `in` to grid `out`; nullopt when its simulated output
// is not exactly on `out` (then the codes would not be the simulation's).
std::optional<CodeTable> gelu_table(nn::GELUImpl& gelu, quant::CodeGrid in, quant::CodeGrid out) {
  torch::NoGradGuard no_grad;
  const at::Tensor values = quant::codes_to_float(quant::as_code_tensor(at::arange(256, at::kByte), in));
  const at::Tensor mapped = gelu.forward(values);  // float input: the simulated path
  const at::Tensor codes = quant::float_to_codes(mapped, out);
  if (!at::equal(quant::codes_to_float(codes), mapped)) return std::nullopt;
  const at::Tensor bytes = codes.int_repr();
  CodeTable table;
  std::copy_n(bytes.data_ptr<uint8_t>(), table.size(), table.begin());
  return table;
}

class GeluTable : public nn::CodeKernel {
 public:
  GeluTable(const nn::GELUImpl& gelu, quant::CodeGrid in, quant::CodeGrid out, const CodeTable& table)
      : in_(in), out_(out), output_quantizer_(gelu.output_quantizer), table_(table) {}

  std::optional<torch::Tensor> forward(const torch::Tensor& codes) override {
    if (!output_quantizer_->enabled() || !(quant::grid_of(codes) == in_)) return std::nullopt;
    const at::Tensor in = codes.contiguous();
    const at::Tensor out = at::empty(in.sizes(), at::kByte);
    const auto* src = static_cast<const uint8_t*>(in.data_ptr());
    uint8_t* dst = out.data_ptr<uint8_t>();
    at::parallel_for(0, in.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) dst[i] = table_[src[i]];
    });
    return quant::as_code_tensor(out, out_);
  }

 private:
  quant::CodeGrid in_, out_;
  quant::QuantizerNode output_quantizer_;
  CodeTable table_;
};

// Where an FFN's two Linears are both integer and the second reads the GELU's
// output grid, the codes flow through: the first emits codes, the GELU maps them
// by table, the second reads them. Returns the GELUs now on codes.
std::vector<std::string> chain_ffn_codes(models::bert::BertForTask& model,
                                         const std::vector<models::bert::LinearInput>& entries) {
  std::vector<std::string> chained;
  models::bert::BertModelImpl& bert = *model->bert;
  for (std::size_t i = 0; i < bert.encoder->layer->size(); ++i) {
    models::bert::BertLayerImpl& layer = *bert.encoder->at(i);
    nn::GELUImpl& gelu = *layer.intermediate->intermediate_act_fn;
    gelu.kernel.reset();
    auto* first = dynamic_cast<DnnlInt8Linear*>(layer.intermediate->dense->kernel.get());
    auto* second = dynamic_cast<DnnlInt8Linear*>(layer.output->dense->kernel.get());
    const auto reads_gelu = std::find_if(entries.begin(), entries.end(), [&](const models::bert::LinearInput& e) {
      return e.linear.get() == layer.output->dense.get() && e.source.get() == gelu.output_quantizer.get();
    });
    if (first == nullptr || second == nullptr || reads_gelu == entries.end()) continue;
    const auto table = gelu_table(gelu, first->output_grid(), second->input_grid());
    if (!table) {
      logger()->warn("int8 backend: layer {}'s GELU output is off its grid; its FFN passes floats", i);
      continue;
    }
    gelu.kernel = std::make_shared<GeluTable>(gelu, first->output_grid(), second->input_grid(), *table);
    first->emit_codes = true;
    chained.push_back(fmt::format("bert.encoder.layer.{}.intermediate.intermediate_act_fn", i));
  }
  return chained;
}
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

Int8Conversion convert_to_int8(models::bert::BertForTask& model, const Int8Options& options) {
#ifndef QSIM_HAVE_DNNL
  QSIM_CHECK(at::globalContext().qEngine() != at::QEngine::NoQEngine, ConfigError,
             "int8 backend: this LibTorch has no quantized CPU engine (FBGEMM, QNNPACK or oneDNN)");
#endif
  Int8Conversion report;
  const std::vector<models::bert::LinearInput> entries = models::bert::linear_inputs(model);
  for (auto entry : entries) {
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
#ifdef QSIM_HAVE_DNNL
  if (options.codes_between_linears) report.on_codes = chain_ffn_codes(model, entries);
#else
  (void)options;  // the FFN chain needs the oneDNN kernels
#endif
  logger()->info("int8 backend ({}): {} Linears as integer GEMMs, {} kept in float, {} GELUs on codes",
                 int8_engine(), report.integer.size(), report.kept_float.size(), report.on_codes.size());
  return report;
}

void remove_int8(models::bert::BertForTask& model) {
  for (auto& entry : models::bert::linear_inputs(model)) entry.linear->kernel.reset();
  models::bert::BertModelImpl& bert = *model->bert;
  for (std::size_t i = 0; i < bert.encoder->layer->size(); ++i) {
    bert.encoder->at(i)->intermediate->intermediate_act_fn->kernel.reset();
  }
}

}  // namespace qsim::sim
