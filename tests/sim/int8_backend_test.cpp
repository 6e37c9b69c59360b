// The int8 backend (qsim/sim/int8_backend.hpp): on the golden tiny models under
// the AIMET default W8A8 simulation, every qualifying Linear runs as an integer
// GEMM whose output is within one step of the simulated output's grid, the
// whole model's logits stay within a few output steps and its predictions
// agree, FP32 mode is untouched, and removing the kernels gives the simulation
// back bit for bit.
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/models/bert/linear_inputs.hpp"
#include "qsim/quant/codes.hpp"
#include "qsim/sim/int8_backend.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

struct Simulated {
  models::bert::BertForTask model;
  std::unique_ptr<QuantSim> sim;
  test::Batch batch;
};

Simulated w8a8(const char *profile, const char *head,
               const SimOptions &options = SimOptions()) {
  Simulated s{test::load_tiny(profile, head), nullptr,
              test::load_batch(profile)};
  s.sim = std::make_unique<QuantSim>(s.model, QuantSimConfig::aimet_default(),
                                     options);
  s.sim->compute_encodings([&](torch::nn::Module &) {
    s.model(s.batch.input_ids, s.batch.token_type_ids, s.batch.attention_mask);
  });
  s.model->eval();
  return s;
}

torch::Tensor values(const torch::Tensor &t) {
  return quant::is_code_tensor(t) ? quant::codes_to_float(t) : t;
}

torch::Tensor logits(Simulated &s) {
  const auto out = s.model(s.batch.input_ids, s.batch.token_type_ids,
                           s.batch.attention_mask);
  return out.logits.defined()
             ? out.logits
             : torch::stack({out.start_logits, out.end_logits});
}

TEST(Int8BackendTest, EachIntegerLinearIsWithinOneOutputStepOfTheSimulation) {
  torch::NoGradGuard no_grad;
  // Static encodings (TF) and learned ones (TF range learning: the grid QAT
  // leaves).
  const SimOptions learned =
      SimOptions().scheme(QuantScheme::tf_range_learning);
  const std::pair<const char *, SimOptions> schemes[] = {
      {"static", SimOptions()}, {"learned", learned}};
  for (const auto &[scheme, options] : schemes) {
    for (const char *profile : {"sharp", "std002"}) {
      for (const char *head : {"seqcls2", "qa"}) {
        SCOPED_TRACE(testing::Message()
                     << profile << " " << head << " " << scheme);
        Simulated s = w8a8(profile, head, options);
        const Int8Conversion report = convert_to_int8(s.model);
        EXPECT_GE(report.integer.size(), 4u * s.model->config.num_hidden_layers)
            << "Q/K/V/FFN at least";
        torch::manual_seed(3);
        for (auto &entry : models::bert::linear_inputs(s.model)) {
          if (!entry.linear->kernel)
            continue;
          SCOPED_TRACE(entry.name);
          // An input on the source grid, as the producing quantizer would hand
          // it over.
          const torch::Tensor x = entry.source(
              torch::randn({3, 5, entry.linear->options.in_features()}) * 2.0);
          ASSERT_TRUE(
              entry.linear->kernel->forward(*entry.linear, x).has_value())
              << "the integer path runs";
          // An FFN's first Linear hands codes on (to its GELU table).
          const torch::Tensor integer = values(entry.linear(x));
          auto kernel = std::move(entry.linear->kernel);
          const torch::Tensor simulated = entry.linear(x);
          entry.linear->kernel = std::move(kernel);
          const double step = entry.linear->output_quantizer->encoding().delta;
          const double worst = (integer - simulated).abs().max().item<double>();
          EXPECT_LE(worst, step * 1.0001) << "more than one step apart";
          // Mostly identical: the integer result rounds differently only near a
          // tie.
          EXPECT_GT(
              (integer == simulated).to(torch::kFloat).mean().item<double>(),
              0.9);
        }
      }
    }
  }
}

TEST(Int8BackendTest, WholeModelAgreesWithTheSimulationAndFp32ModeIsUntouched) {
  torch::NoGradGuard no_grad;
  Simulated s = w8a8("sharp", "seqcls2");
  const torch::Tensor simulated = logits(s);
  convert_to_int8(s.model);
  const torch::Tensor integer = logits(s);
  const double out_step =
      s.model->classifier->output_quantizer->encoding().delta;
  EXPECT_LE((integer - simulated).abs().max().item<double>(), 8 * out_step);
  EXPECT_TRUE(torch::equal(integer.argmax(-1), simulated.argmax(-1)));

  s.sim->set_mode(Mode::fp32);
  const torch::Tensor fp32_with_kernels = logits(s);
  remove_int8(s.model);
  EXPECT_TRUE(torch::equal(fp32_with_kernels, logits(s)))
      << "FP32 mode must ignore the integer kernels";
  s.sim->set_mode(Mode::quantized);
  const torch::Tensor again = logits(s);
  EXPECT_TRUE(torch::equal(again, simulated))
      << "removing the kernels gives the simulation back: "
      << (again - simulated).abs().max().item<double>();
}

TEST(Int8BackendTest, ReportsWhatStaysFloatAndWhy) {
  torch::NoGradGuard no_grad;
  Simulated s = w8a8("sharp", "seqcls2");
  const std::string victim = "bert.encoder.layer.0.intermediate.dense";
  s.sim->set_enabled(victim + ".output_quantizer", false);
  const Int8Conversion report = convert_to_int8(s.model);
  ASSERT_TRUE(report.kept_float.count(victim));
  EXPECT_EQ(report.kept_float.at(victim), "output quantizer off");
  // The next Linear reads GELU's output, which is still quantized: it converts.
  EXPECT_NE(std::find(report.integer.begin(), report.integer.end(),
                      "bert.encoder.layer.0.output.dense"),
            report.integer.end());
}

bool built_with_onednn() { return int8_engine() == "onednn-matmul"; }

TEST(Int8BackendTest, FfnCodesFlowThroughTheGeluTableAndChangeNothing) {
  if (!built_with_onednn()) GTEST_SKIP() << "the FFN chain needs the oneDNN kernels";
  torch::NoGradGuard no_grad;
  for (const char *head : {"seqcls2", "qa"}) {
    SCOPED_TRACE(head);
    Simulated s = w8a8("sharp", head);
    const Int8Conversion floats = convert_to_int8(s.model, Int8Options{false});
    EXPECT_TRUE(floats.on_codes.empty());
    const torch::Tensor between_in_float = logits(s);
    const Int8Conversion codes = convert_to_int8(s.model);
    ASSERT_EQ(codes.on_codes.size(),
              static_cast<size_t>(s.model->config.num_hidden_layers));
    EXPECT_EQ(codes.on_codes[0],
              "bert.encoder.layer.0.intermediate.intermediate_act_fn");
    // The codes really flow: dense → GELU → dense without a float tensor.
    auto &layer = *s.model->bert->encoder->at(0);
    const torch::Tensor x = layer.attention->output->LayerNorm->output_quantizer(
        torch::randn({2, 3, s.model->config.hidden_size}));
    const torch::Tensor dense_out = layer.intermediate->dense(x);
    ASSERT_TRUE(quant::is_code_tensor(dense_out));
    const torch::Tensor gelu_out = layer.intermediate->intermediate_act_fn(dense_out);
    ASSERT_TRUE(quant::is_code_tensor(gelu_out));
    EXPECT_FALSE(quant::is_code_tensor(layer.output->dense(gelu_out)));
    // Exact: the table is the simulated GELU on each code.
    EXPECT_TRUE(torch::equal(logits(s), between_in_float))
        << (logits(s) - between_in_float).abs().max().item<double>();
    remove_int8(s.model);
    EXPECT_EQ(layer.intermediate->intermediate_act_fn->kernel, nullptr);
  }
}

TEST(Int8BackendTest, GeluTableIsTheSimulatedGeluOnEveryCode) {
  if (!built_with_onednn()) GTEST_SKIP() << "the FFN chain needs the oneDNN kernels";
  torch::NoGradGuard no_grad;
  Simulated s = w8a8("std002", "seqcls2");
  convert_to_int8(s.model);
  auto &layer = *s.model->bert->encoder->at(1);
  nn::GELUImpl &gelu = *layer.intermediate->intermediate_act_fn;
  const quant::Encoding in = layer.intermediate->dense->output_quantizer->encoding();
  const quant::Encoding out = gelu.output_quantizer->encoding();
  const quant::CodeGrid in_grid{static_cast<float>(in.delta),
                                static_cast<int32_t>(std::lround(-in.offset))};
  const quant::CodeGrid out_grid{static_cast<float>(out.delta),
                                 static_cast<int32_t>(std::lround(-out.offset))};
  const torch::Tensor every = quant::as_code_tensor(
      torch::arange(256, torch::kByte).repeat({3}).reshape({3, 256}), in_grid);
  const torch::Tensor by_table = gelu.forward(every);
  ASSERT_TRUE(quant::is_code_tensor(by_table));
  EXPECT_TRUE(quant::grid_of(by_table) == out_grid);
  auto table = std::move(gelu.kernel);
  const torch::Tensor simulated = gelu.forward(quant::codes_to_float(every));
  gelu.kernel = std::move(table);
  EXPECT_TRUE(torch::equal(quant::codes_to_float(by_table), simulated));
  // Codes on another grid are not the table's: computed in float instead.
  const torch::Tensor other = quant::as_code_tensor(
      torch::arange(256, torch::kByte), {in_grid.delta * 2.0f, in_grid.zero_point});
  EXPECT_FALSE(quant::is_code_tensor(gelu.forward(other)));
}

} // namespace
} // namespace qsim::sim
