// The exported models in the official ONNX Runtime (npm onnxruntime-node, through
// scripts/ort/run_model.js) against qsim:
//  * the float graph against qsim FP32: logits within 1e-4 on the golden tiny
//    models, every head, both mask conventions, padded rows included;
//  * the QDQ graph with ORT's optimizations disabled (Q and DQ run as written)
//    against the simulation, quantizer by quantizer: (1) ORT's QuantizeLinear gives
//    AIMET's code on ORT's own input except at ties (AIMET's static grid rounds
//    half away from zero, ONNX half to even); (2) with every quantizer handing on
//    ORT's value (teacher forcing), the ops in between agree to float rounding;
//    (3) so the codes differ by at most one step, only where a value lies within
//    that rounding of a grid boundary, at a tiny measured fraction per tensor.
//    (Without teacher forcing one such flip moves whole rows downstream: the
//    golden "sharp" weights amplify a step into several.)
//  * the QDQ graph with every optimization (ORT's integer kernels: MatMulInteger-
//    ToFloat, QLinearMatMul, QLinearAdd, QLinearSoftmax, QGemm) stays within a few
//    output steps of the simulation (the real dev set: bert_eval --ort, e2e test).
// ORT is installed by scripts/setup.sh; these tests fail, not skip, without it.
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "deploy_fixtures.hpp"
#include "qsim/error.hpp"
#include "support/expect_error.hpp"
#include "sim/reference_bert.hpp"
#include "support/scratch_dir.hpp"

namespace qsim::deploy {
namespace {

using models::bert::AttentionMask;
using test::ScratchDir;

class OnnxRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    ASSERT_TRUE(onnx_runtime_available(&why)) << why << " — scripts/setup.sh installs ONNX Runtime";
  }
};

// An initializer's values as float32 (scales) or int64 (zero points).
at::Tensor initializer(const onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer()) {
    if (t.name() != name) continue;
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    const std::string& raw = t.raw_data();
    const auto decode = [&](auto sample, at::ScalarType dtype) {
      using T = decltype(sample);
      at::Tensor out = at::empty({static_cast<int64_t>(raw.size() / sizeof(T))}, dtype);
      std::memcpy(out.data_ptr(), raw.data(), raw.size());
      return out.reshape(dims);
    };
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT: return decode(float{}, at::kFloat);
      case onnx::TensorProto::UINT8: return decode(uint8_t{}, at::kByte).to(at::kLong);
      case onnx::TensorProto::INT8: return decode(int8_t{}, at::kChar).to(at::kLong);
      case onnx::TensorProto::INT16: return decode(int16_t{}, at::kShort).to(at::kLong);
      case onnx::TensorProto::UINT16: {
        at::Tensor wide = decode(int16_t{}, at::kShort).to(at::kLong);
        return wide + (wide < 0).to(at::kLong) * 65536;
      }
      default: break;
    }
  }
  throw std::runtime_error("no initializer " + name);
}

// Broadcasts a per-channel (1-D) scale or zero point along the last axis of `like`.
at::Tensor along_last(const at::Tensor& v, const at::Tensor& like) {
  if (v.dim() == 0) return v;
  std::vector<int64_t> shape(static_cast<std::size_t>(like.dim()), 1);
  shape.back() = v.numel();
  return v.reshape(shape);
}

TEST_F(OnnxRuntimeTest, FloatGraphMatchesQsimFp32OnEveryHeadAndMask) {
  const ScratchDir dir("ort_fp32");
  for (const char* profile : {"sharp", "std002"}) {
    for (const char* head : {"seqcls2", "seqcls3", "regression", "qa"}) {
      for (const AttentionMask& mask : {AttentionMask::hf(), AttentionMask::zoo()}) {
        SCOPED_TRACE(fmt::format("{} {} mask {}", profile, head, mask.mode == models::bert::MaskMode::zoo ? "zoo" : "hf"));
        models::bert::BertForTask model = test::load_tiny(profile, head, mask);
        const test::Batch b = test::batch_for(profile, mask);
        ASSERT_TRUE((b.attention_mask == 0).any().item<bool>()) << "the batch has padded rows";
        const std::string path = dir.file(fmt::format("{}_{}_{}.onnx", profile, head, static_cast<int>(mask.mode)));
        export_float_onnx(model, path);
        const at::Tensor expected = test::qsim_logits(model, b);
        const at::Tensor got = test::ort_logits(run_onnx_runtime(path, test::onnx_inputs(b)));
        ASSERT_EQ(got.sizes(), expected.sizes());
        EXPECT_LE((got - expected).abs().max().item<double>(), 1e-4);
      }
    }
  }
}

struct QdqCase {
  const char* name;
  const char* profile;
  const char* head;
  AttentionMask mask;
  sim::SimOptions options;
};

std::vector<QdqCase> qdq_cases() {
  sim::SimOptions mixed = sim::SimOptions().output_bitwidth(8);
  mixed.bitwidth_overrides({{"attention\\.output\\.add\\.output_quantizer", 16}});
  mixed.embedding_groups({{"layer\\.\\d+\\.output\\.(dense|dropout|add)\\.output_quantizer", 4, true}});
  return {
      {"W8A8 TF-enhanced (static grid)", "sharp", "seqcls2", AttentionMask::zoo(), sim::SimOptions()},
      {"W8A8 TF range learning (learned grid)", "sharp", "qa", AttentionMask::hf(),
       sim::SimOptions().scheme(sim::QuantScheme::tf_range_learning)},
      {"W8A4 per-channel weights (4-bit activations: clamp + uint8)", "std002", "seqcls3", AttentionMask::zoo(),
       sim::SimOptions().scheme(sim::QuantScheme::tf).output_bitwidth(4).per_channel(true)},
      {"W8A8 + 16-bit residual + PEG", "sharp", "regression", AttentionMask::hf(), mixed},
  };
}

// One quantized tensor as ORT computed it: QuantizeLinear's float input, its codes,
// and the value DequantizeLinear gives back.
struct OrtTensor {
  at::Tensor x, codes, scale, zero, y;
};

OrtTensor ort_tensor(const OrtResult& ort, const onnx::ModelProto& qdq, const std::string& tensor) {
  OrtTensor t;
  t.x = ort.outputs.at(tensor);
  t.codes = ort.outputs.at(tensor + "_quantized").to(at::kLong);
  t.scale = along_last(initializer(qdq, tensor + "_scale"), t.x);
  t.zero = along_last(initializer(qdq, tensor + "_zero_point"), t.x);
  t.y = (t.codes - t.zero).to(at::kFloat) * t.scale;
  return t;
}

// How far float32 rounding can move x/Δ in AIMET's static kernel, t = x/Δ − o
// (the division and the subtraction each round; 16-bit grids reach 65535): the
// width of a "tie", in steps.
at::Tensor tie_width(const at::Tensor& x, const OrtTensor& t) {
  return 1e-4 + ((x / t.scale).abs() + t.zero.abs().to(at::kFloat)) * std::ldexp(1.0, -21);
}

// Distance of x/Δ to the nearest rounding boundary (a half-integer), in steps.
at::Tensor boundary_distance(const at::Tensor& x, const at::Tensor& scale) {
  const at::Tensor t = x.to(at::kDouble) / scale.to(at::kDouble);
  return ((t - t.floor()) - 0.5).abs();
}

at::Tensor quantize_as_simulation(test::Simulated& s, const std::string& quantizer, const at::Tensor& x) {
  torch::NoGradGuard no_grad;
  return s.sim->quantizer(quantizer)->forward(x);
}

// The quantizers' inputs of the reference forward (plain ATen, tests/sim/
// reference_bert.hpp) when every active activation quantizer hands on ORT's value
// instead of its own ("teacher forcing"): each tensor is then computed from the
// same quantized inputs on both sides, and only the ops' float rounding differs.
std::map<std::string, at::Tensor> forced_inputs(test::Simulated& s, const OnnxExport& out, const OrtResult& ort,
                                                const onnx::ModelProto& qdq) {
  std::map<std::string, const ExportedQuantizer*> by_name;
  for (const ExportedQuantizer& q : out.quantizers) by_name[q.quantizer] = &q;
  std::map<std::string, at::Tensor> seen;
  torch::NoGradGuard no_grad;
  test::ReferenceBert reference(s.model->config, test::model_params(s.model),
                                [&](const std::string& name, const at::Tensor& x) -> at::Tensor {
                                  const auto it = by_name.find(name);
                                  if (it == by_name.end()) return x;  // off, or an integer input
                                  if (it->second->parameter) return s.sim->quantizer(name)->forward(x);
                                  seen[name] = x.clone();
                                  return ort_tensor(ort, qdq, it->second->tensor).y.reshape(x.sizes());
                                });
  reference.logits(s.batch);
  return seen;
}

TEST_F(OnnxRuntimeTest, QdqGraphUnfusedMatchesTheSimulationQuantizerByQuantizer) {
  for (QdqCase& c : qdq_cases()) {
    SCOPED_TRACE(c.name);
    test::Simulated s = test::simulate(c.profile, c.head, c.mask, c.options);
    const ScratchDir dir("ort_qdq");
    const OnnxExport out = export_onnx(*s.sim, dir.str(), "m", OnnxExportOptions().expose_quantized_tensors(true));
    const onnx::ModelProto qdq = test::read_model(out.qdq_onnx);
    const OrtResult ort =
        run_onnx_runtime(out.qdq_onnx, test::onnx_inputs(s.batch), OrtOptions().optimization(OrtOptimization::disabled));
    const std::map<std::string, at::Tensor> forced = forced_inputs(s, out, ort, qdq);
    int64_t elements = 0, ties = 0, moved = 0;
    double worst_fraction = 0.0, worst_drift = 0.0;
    for (const ExportedQuantizer& q : out.quantizers) {
      if (q.parameter) continue;
      SCOPED_TRACE(q.quantizer);
      const OrtTensor t = ort_tensor(ort, qdq, q.tensor);
      // 1. ORT's QuantizeLinear is AIMET's quantizer on the same input, but at ties.
      const at::Tensor aimet = quantize_as_simulation(s, q.quantizer, t.x);
      const at::Tensor at_tie = boundary_distance(t.x, t.scale) <= tie_width(t.x, t);
      EXPECT_FALSE(((aimet != t.y) & ~at_tie).any().item<bool>()) << "ORT and AIMET disagree away from a tie";
      ties += (aimet != t.y).sum().item<int64_t>();
      // 2. The ops between quantizers agree to float rounding on the same inputs.
      ASSERT_EQ(forced.count(q.quantizer), 1u) << "the reference forward reaches it";
      const at::Tensor x = forced.at(q.quantizer).reshape(t.x.sizes());
      const at::Tensor drift = (x - t.x).abs();
      const double relative = drift.max().item<double>() / (1.0 + t.x.abs().max().item<double>());
      worst_drift = std::max(worst_drift, relative);
      EXPECT_LE(relative, 2e-5) << "more than float rounding between the engines' ops";
      // 3. So the codes differ by at most a step, only where x lies within that
      //    rounding (or a tie) of a boundary.
      const at::Tensor steps = ((quantize_as_simulation(s, q.quantizer, x) - t.y).abs() / t.scale).round();
      EXPECT_LE(steps.max().item<double>(), 1.0);
      const at::Tensor explained = boundary_distance(x, t.scale) <= drift / t.scale + tie_width(x, t);
      EXPECT_FALSE(((steps > 0) & ~explained).any().item<bool>()) << "a code moved without a boundary nearby";
      const int64_t off = (steps > 0).sum().item<int64_t>();
      moved += off;
      elements += t.x.numel();
      worst_fraction = std::max(worst_fraction, static_cast<double>(off) / static_cast<double>(t.x.numel()));
    }
    std::cout << fmt::format(
        "[ qdq ] {}: {} of {} codes one step off ({:.4f} %), worst tensor {:.3f} %; {} ties; ops' drift ≤ {:.1e}\n",
        c.name, moved, elements, 100.0 * static_cast<double>(moved) / static_cast<double>(elements),
        100.0 * worst_fraction, ties, worst_drift);
    EXPECT_LE(worst_fraction, 1e-2) << "a tiny fraction per tensor";
  }
}

TEST_F(OnnxRuntimeTest, QdqGraphOnIntegerKernelsStaysWithinAFewOutputSteps) {
  for (QdqCase& c : qdq_cases()) {
    SCOPED_TRACE(c.name);
    test::Simulated s = test::simulate(c.profile, c.head, c.mask, c.options);
    const ScratchDir dir("ort_int");
    const OnnxExport out = export_onnx(*s.sim, dir.str(), "m");
    const at::Tensor simulated = test::qsim_logits(s.model, s.batch);
    const at::Tensor integer = test::ort_logits(run_onnx_runtime(out.qdq_onnx, test::onnx_inputs(s.batch)));
    const std::string head = s.model->config.head == models::bert::BertHead::question_answering ? "qa_outputs"
                                                                                                  : "classifier";
    const double step = s.sim->quantizer(head + ".output_quantizer")->encodings().front().delta;
    const double worst = (integer - simulated).abs().max().item<double>() / step;
    std::cout << fmt::format("[ qdq int ] {}: logits within {:.1f} output steps ({:.3g})\n", c.name, worst,
                             worst * step);
    // Measured: 10 steps on the sharp static case, whose peaked attention turns
    // QLinearSoftmax's table-based rounding into whole steps downstream; 0–6 elsewhere.
    EXPECT_LE(worst, 12.0);
  }
}

TEST_F(OnnxRuntimeTest, RunnerErrorsNameTheModelAndCarryOrtsMessage) {
  const ScratchDir dir("ort_errors");
  const test::Batch b = test::load_batch("std002");
  QSIM_EXPECT_THROW_MSG(run_onnx_runtime(dir.file("missing.onnx"), test::onnx_inputs(b)), IoError,
                        {"no model file", "missing.onnx"});
  std::ofstream(dir.file("garbage.onnx")) << "not a protobuf";
  QSIM_EXPECT_THROW_MSG(run_onnx_runtime(dir.file("garbage.onnx"), test::onnx_inputs(b)), IoError,
                        {"garbage.onnx", "run_model.js"});
  models::bert::BertForTask model = test::load_tiny("std002", "seqcls2");
  export_float_onnx(model, dir.file("m.onnx"));
  QSIM_EXPECT_THROW_MSG(run_onnx_runtime(dir.file("m.onnx"), {{"input_ids", b.input_ids}}), IoError,
                        {"has no tensor 'attention_mask'"});
  QSIM_EXPECT_THROW_MSG(parse_ort_optimization("fast"), ConfigError, {"'fast'"});
  EXPECT_EQ(parse_ort_optimization("extended"), OrtOptimization::extended);
}

}  // namespace
}  // namespace qsim::deploy
