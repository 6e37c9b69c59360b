// Calibration (semantics §4.2): every quantizer gets exactly the encoding its
// analyzer produces on the tensors it saw, recomputed here from tensors captured
// through the calibration observer.

#include <map>

#include <gtest/gtest.h>

#include "qsim/analysis/encoding_analyzer.hpp"
#include "qsim/nn/thread_invariant_matmul.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

// Runs the golden batch twice, as two calibration batches of different sizes.
void run_batches(models::bert::BertForTask& model, const test::Batch& b) {
  model(b.input_ids, b.token_type_ids, b.attention_mask);
  using torch::indexing::Slice;
  model(b.input_ids.index({Slice(1, 3)}), b.token_type_ids.index({Slice(1, 3)}),
        b.attention_mask.index({Slice(1, 3)}));
}

class CalibrationTest : public ::testing::TestWithParam<QuantScheme> {};

TEST_P(CalibrationTest, EachQuantizerGetsItsAnalyzersEncoding) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const test::Batch batch = test::load_batch("sharp");
  QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(GetParam()));
  std::map<std::string, std::vector<torch::Tensor>> seen;
  sim.set_calibration_observer(
      [&seen](const QuantizerSlot& s, const torch::Tensor& x) { seen[s.name].push_back(x.detach().clone()); });
  model->train();  // compute_encodings must switch to eval (dropout off) and back
  sim.compute_encodings([&](torch::nn::Module& m) {
    EXPECT_FALSE(m.is_training());
    EXPECT_FALSE(torch::GradMode::is_enabled());
    run_batches(model, batch);
  });
  EXPECT_TRUE(model->is_training());
  model->eval();

  const analysis::AnalyzerKind kind = activation_analyzer(GetParam());
  // Static grid: the encoding itself; learned grid: f32 of its min/max (§5.1).
  const auto expect_encoding = [](const QuantizerSlot& s, const quant::Encoding& expected) {
    if (s.node->options.grid() == quant::Grid::learned_grid) {
      EXPECT_EQ(s.node->encoding_min.item<float>(), static_cast<float>(expected.min)) << s.name;
      EXPECT_EQ(s.node->encoding_max.item<float>(), static_cast<float>(expected.max)) << s.name;
    } else {
      EXPECT_EQ(s.node->encoding(), expected) << s.name;
    }
  };
  std::size_t checked = 0;
  for (const QuantizerSlot& s : sim.quantizers()) {
    const quant::QuantizerOptions& o = s.node->options;
    if (s.kind == SlotKind::param) {
      if (!s.active) continue;
      const torch::Tensor w = *model->named_parameters().find(s.tensor_name());
      auto analyzer = analysis::make_analyzer(kind);
      analyzer->update_stats(w);
      expect_encoding(s, analyzer->compute_encoding(o.bitwidth(), o.symmetry()));
      ++checked;
      continue;
    }
    const auto it = seen.find(s.name);
    if (it == seen.end()) {
      EXPECT_FALSE(s.active) << s.name << " saw no data but stayed active";
      continue;
    }
    ASSERT_TRUE(s.active) << s.name;
    auto analyzer = analysis::make_analyzer(kind);
    for (const torch::Tensor& x : it->second) analyzer->update_stats(x);
    EXPECT_EQ(it->second.size(), 2u) << s.name;
    expect_encoding(s, analyzer->compute_encoding(o.bitwidth(), o.symmetry()));
    if (kind == analysis::AnalyzerKind::tf) {
      // TF is min/max of everything seen, widened to contain 0 (§3.1).
      double lo = 0.0, hi = 0.0;
      for (const torch::Tensor& x : it->second) {
        lo = std::min(lo, static_cast<double>(x.min().item<float>()));
        hi = std::max(hi, static_cast<double>(x.max().item<float>()));
      }
      expect_encoding(s, quant::make_tf_encoding(lo, hi, o.bitwidth(), o.symmetry()));
    }
    ++checked;
  }
  EXPECT_EQ(checked, sim.active_quantizers().size());
  // Integer inputs are never observed: the embeddings' inputs and the zoo mask.
  EXPECT_FALSE(sim.slot("bert.embeddings.word_embeddings.input_quantizers.0").active);
  EXPECT_FALSE(sim.slot("bert.encoder.layer.0.attention.self.mask_add.input_quantizers.1").active);
}

INSTANTIATE_TEST_SUITE_P(Schemes, CalibrationTest,
                         ::testing::Values(QuantScheme::tf, QuantScheme::tf_enhanced, QuantScheme::tf_range_learning),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(CalibrationTest, StatisticsComeFromQuantizedWeightsAndFloatActivations) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const test::Batch b = test::load_batch("sharp");
  QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(QuantScheme::tf));
  torch::Tensor embedded, query;
  const std::string q = "bert.encoder.layer.0.attention.self.query.output_quantizer";
  sim.set_calibration_observer([&](const QuantizerSlot& s, const torch::Tensor& x) {
    if (s.name == "bert.embeddings.dropout.output_quantizer") embedded = x.clone();
    if (s.name == q) query = x.clone();
  });
  sim.compute_encodings([&](torch::nn::Module&) { model(b.input_ids, b.token_type_ids, b.attention_mask); });
  // query saw linear(float embeddings, W8(weight)) + bias: unquantized input, quantized
  // weight — computed, as in every inference pass, by the one Q/K/V GEMM.
  const auto& self = model->bert->encoder->at(0)->attention->self;
  std::vector<torch::Tensor> weights, biases;
  for (const auto& dense : {self->query, self->key, self->value}) {
    weights.push_back(quant::fake_quantize_static(dense->weight.detach(), dense->weight_quantizer->encoding()));
    biases.push_back(dense->bias.detach());
  }
  const torch::Tensor qkv = nn::thread_invariant_linear(embedded, torch::cat(weights), torch::cat(biases));
  EXPECT_TRUE(torch::equal(query, qkv.narrow(-1, 0, self->query->options.out_features())));
}

TEST(CalibrationTest, RangeLearningStartsFromTheCalibratedEncodings) {
  auto model = test::load_tiny("std002", "qa");
  const test::Batch b = test::load_batch("std002");
  QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(QuantScheme::tf_range_learning));
  sim.set_calibration_observer([](const QuantizerSlot&, const torch::Tensor&) {});
  sim.compute_encodings([&](torch::nn::Module&) { model(b.input_ids, b.token_type_ids, b.attention_mask); });
  EXPECT_EQ(sim.mode(), Mode::range_learning);
  EXPECT_EQ(sim.range_parameters().size(), 2 * sim.active_quantizers().size());
  for (const QuantizerSlot* s : sim.active_quantizers()) {
    ASSERT_EQ(s->node->options.grid(), quant::Grid::learned_grid) << s->name;
    EXPECT_TRUE(s->node->encoding_max.requires_grad()) << s->name;
  }
  sim.set_mode(Mode::quantized);
  EXPECT_FALSE(sim.range_parameters().front().requires_grad());
}

}  // namespace
}  // namespace qsim::sim
