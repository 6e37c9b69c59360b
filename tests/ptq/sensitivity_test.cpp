// The sensitivity analysis, block errors, quantizer statistics and BitOps
// (qsim/ptq/sensitivity.hpp, block_error.hpp, quantizer_stats.hpp, bitops.hpp):
//  * every sweep score equals the score of that configuration set up by hand;
//  * mixed-precision groups of one BERT layer are the hand-written list;
//  * MACs and BitOps of a known configuration equal the hand computation;
//  * block errors leave padding out; histograms count every value calibration saw.
#include <cmath>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/ptq/bitops.hpp"
#include "qsim/ptq/block_error.hpp"
#include "qsim/ptq/quantizer_groups.hpp"
#include "qsim/ptq/quantizer_stats.hpp"
#include "qsim/ptq/sensitivity.hpp"
#include "sim/tiny_bert.hpp"
#include "tiny_data.hpp"
#include "support/expect_error.hpp"

namespace qsim::ptq {
namespace {

using sim::QuantSim;
using sim::QuantSimConfig;
using sim::SimOptions;

struct Fixture {
  models::bert::BertForTask model;
  test::Batch batch;
  std::function<void(torch::nn::Module&)> calibrate;
  std::function<double(torch::nn::Module&)> evaluate;
};

// The golden tiny model at W8A4 (so that quantizers matter), scored by the
// negative squared distance of its logits to FP32's.
Fixture fixture() {
  Fixture f{test::load_tiny("std002", "seqcls2"), test::load_batch("std002"), {}, {}};
  at::Tensor reference;
  {
    torch::NoGradGuard no_grad;
    reference = f.model(f.batch.input_ids, f.batch.token_type_ids, f.batch.attention_mask).logits.clone();
  }
  auto model = f.model;
  auto batch = f.batch;
  f.calibrate = [model, batch](torch::nn::Module&) mutable {
    model(batch.input_ids, batch.token_type_ids, batch.attention_mask);
  };
  f.evaluate = [model, batch, reference](torch::nn::Module&) mutable {
    torch::NoGradGuard no_grad;
    const at::Tensor logits = model(batch.input_ids, batch.token_type_ids, batch.attention_mask).logits;
    return -(logits - reference).square().sum().item<double>();
  };
  return f;
}

SimOptions w8a4() { return SimOptions().scheme(sim::QuantScheme::tf).output_bitwidth(4); }

TEST(SensitivityTest, EverySweepScoreIsTheScoreOfThatConfigurationByHand) {
  Fixture f = fixture();
  QuantSim sim(f.model, QuantSimConfig::aimet_default(), w8a4());
  const SensitivityResult r =
      analyze_sensitivity(sim, {f.calibrate, f.evaluate}, SensitivityOptions().single_activations(true));
  ASSERT_FALSE(r.blocks.empty());
  ASSERT_FALSE(r.activations.empty());
  EXPECT_EQ(r.fp32, 0.0);
  EXPECT_LT(r.quantized, 0.0);

  std::vector<std::string> calibrated;
  for (const auto& s : sim.quantizers()) {
    if (s.active) calibrated.push_back(s.name);
  }
  const auto by_hand = [&](const std::function<bool(const sim::QuantizerSlot&)>& on) {
    for (const std::string& name : calibrated) sim.set_enabled(name, on(sim.slot(name)));
    sim.set_mode(sim::Mode::quantized);
    const double score = f.evaluate(*f.model);
    for (const std::string& name : calibrated) sim.set_enabled(name, true);
    return score;
  };
  EXPECT_EQ(r.quantized, by_hand([](const auto&) { return true; }));
  EXPECT_EQ(r.weights_only, by_hand([](const auto& s) { return s.kind == sim::SlotKind::param; }));
  EXPECT_EQ(r.activations_only, by_hand([](const auto& s) { return s.kind != sim::SlotKind::param; }));
  for (const auto* list : {&r.blocks, &r.activations}) {
    for (const GroupSensitivity& g : *list) {
      const std::set<std::string> members(g.quantizers.begin(), g.quantizers.end());
      EXPECT_EQ(g.enabled_only, by_hand([&](const auto& s) { return members.count(s.name) > 0; })) << g.name;
      EXPECT_EQ(g.disabled, by_hand([&](const auto& s) { return members.count(s.name) == 0; })) << g.name;
    }
  }
  // Blocks: one group per block with an active quantizer, all of them, in slot order.
  std::set<std::string> blocks;
  for (const std::string& name : calibrated) blocks.insert(sim.slot(name).block);
  EXPECT_EQ(r.blocks.size(), blocks.size());
  // The sim is left calibrated, quantized, with every calibrated quantizer on.
  EXPECT_EQ(sim.mode(), sim::Mode::quantized);
  for (const std::string& name : calibrated) EXPECT_TRUE(sim.slot(name).active) << name;
  const auto top = r.most_sensitive(3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_GE(top[0].disabled, top[1].disabled);
}

TEST(SensitivityTest, MissingCallbacksAreConfigErrors) {
  Fixture f = fixture();
  QuantSim sim(f.model, QuantSimConfig::aimet_default(), w8a4());
  const SensitivityCallbacks missing{f.calibrate, {}};
  QSIM_EXPECT_THROW_MSG(analyze_sensitivity(sim, missing), ConfigError, {"callbacks"});
}

// What AIMET's default config quantizes in one encoder layer, grouped as mixed
// precision switches it: each producer's output with the weights that read it.
TEST(QuantizerGroupsTest, MixedPrecisionGroupsOfOneLayerAreTheHandWrittenList) {
  Fixture f = fixture();
  QuantSim sim(f.model, QuantSimConfig::aimet_default(), w8a4());
  sim.compute_encodings(f.calibrate);
  const std::string l = "bert.encoder.layer.0.";
  const std::string a = l + "attention.";
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {a + "self.query", {a + "self.query.output_quantizer"}},
      {a + "self.key", {a + "self.key.output_quantizer"}},
      {a + "self.value", {a + "self.value.output_quantizer"}},
      {a + "self.matmul_1", {a + "self.matmul_1.output_quantizer", a + "self.mask_add.input_quantizers.0"}},
      {a + "self.mask_add", {a + "self.mask_add.output_quantizer"}},
      {a + "self.softmax", {a + "self.softmax.output_quantizer"}},
      {a + "self.dropout", {a + "self.dropout.output_quantizer"}},
      {a + "self.matmul_2", {a + "self.matmul_2.output_quantizer", a + "output.dense.weight_quantizer"}},
      {a + "output.dense", {a + "output.dense.output_quantizer"}},
      {a + "output.dropout", {a + "output.dropout.output_quantizer"}},
      {a + "output.add", {a + "output.add.output_quantizer", a + "output.LayerNorm.weight_quantizer"}},
      {a + "output.LayerNorm", {a + "output.LayerNorm.output_quantizer", l + "intermediate.dense.weight_quantizer"}},
      {l + "intermediate.dense", {l + "intermediate.dense.output_quantizer"}},
      {l + "intermediate.intermediate_act_fn",
       {l + "intermediate.intermediate_act_fn.output_quantizer", l + "output.dense.weight_quantizer"}},
      {l + "output.dense", {l + "output.dense.output_quantizer"}},
      {l + "output.dropout", {l + "output.dropout.output_quantizer"}},
      {l + "output.add", {l + "output.add.output_quantizer", l + "output.LayerNorm.weight_quantizer"}},
      // The next layer's Q, K and V weights read this LayerNorm's output.
      {l + "output.LayerNorm",
       {l + "output.LayerNorm.output_quantizer", "bert.encoder.layer.1.attention.self.query.weight_quantizer",
        "bert.encoder.layer.1.attention.self.key.weight_quantizer",
        "bert.encoder.layer.1.attention.self.value.weight_quantizer"}},
  };
  std::vector<QuantizerGroup> groups = mixed_precision_groups(sim);
  sort_by_forward_order(groups, sim, forward_order(sim, f.calibrate));
  std::vector<std::pair<std::string, std::vector<std::string>>> got;
  for (const QuantizerGroup& g : groups) {
    if (g.name.rfind(l, 0) == 0) got.emplace_back(g.name, g.quantizers);
  }
  EXPECT_EQ(got, expected);
  // Every active quantizer is in exactly one group.
  std::multiset<std::string> members;
  for (const QuantizerGroup& g : mixed_precision_groups(sim)) members.insert(g.quantizers.begin(), g.quantizers.end());
  for (const auto& s : sim.quantizers()) EXPECT_EQ(members.count(s.name), s.active ? 1u : 0u) << s.name;
}

// MACs of one forward, by hand from the config: per layer Q, K, V, attention output
// (H×H each), intermediate (H×I), output (I×H) on B·L token rows; the two attention
// products B·heads·L·L·d each; pooler H×H and classifier H×labels on B rows.
TEST(BitOpsTest, MacsAndBitOpsOfAKnownConfigurationAreTheHandComputation) {
  Fixture f = fixture();
  QuantSim sim(f.model, QuantSimConfig::aimet_default(), w8a4().param_bitwidth(6));
  sim.compute_encodings(f.calibrate);
  const auto& c = f.model->config;
  const int64_t b = f.batch.input_ids.size(0), len = f.batch.input_ids.size(1), h = c.hidden_size;
  const int64_t d = h / c.num_attention_heads;
  const std::vector<MacBlock> macs = count_macs(sim, f.calibrate);
  std::map<std::string, int64_t> by_block;
  for (const MacBlock& m : macs) by_block[m.block] = m.macs;
  const std::string a = "bert.encoder.layer.0.attention.";
  EXPECT_EQ(by_block.at(a + "self.query"), b * len * h * h);
  EXPECT_EQ(by_block.at(a + "self.matmul_1"), b * c.num_attention_heads * len * len * d);
  EXPECT_EQ(by_block.at(a + "self.matmul_2"), b * c.num_attention_heads * len * len * d);
  EXPECT_EQ(by_block.at("bert.encoder.layer.0.intermediate.dense"), b * len * h * c.intermediate_size);
  EXPECT_EQ(by_block.at("bert.encoder.layer.0.output.dense"), b * len * c.intermediate_size * h);
  EXPECT_EQ(by_block.at("bert.pooler.dense"), b * h * h);
  EXPECT_EQ(by_block.at("classifier"), b * h * c.num_labels);
  EXPECT_EQ(by_block.size(), static_cast<std::size_t>(8 * c.num_hidden_layers + 2));

  // W6A4: a Linear reads a 4-bit activation and a 6-bit weight; the attention
  // products two 4-bit activations; the pooler's input (the [CLS] row of the last
  // LayerNorm, a 4-bit output) too.
  const double linear_macs = static_cast<double>(c.num_hidden_layers) *
                                 static_cast<double>(b * len * (4 * h * h + 2 * h * c.intermediate_size)) +
                             static_cast<double>(b * h * h + b * h * c.num_labels);
  const double matmul_macs = static_cast<double>(c.num_hidden_layers) * 2.0 *
                             static_cast<double>(b * c.num_attention_heads * len * len * d);
  EXPECT_DOUBLE_EQ(bitops(macs, sim), linear_macs * 4 * 6 + matmul_macs * 4 * 4);
  // Operands with no active quantizer count 32 bits.
  EXPECT_DOUBLE_EQ(bitops(macs, [](const std::string&) { return 32; }), (linear_macs + matmul_macs) * 32 * 32);
}

TEST(BlockErrorTest, RealTokenValuesLeavePaddingOut) {
  const at::Tensor mask = torch::tensor({{1, 1, 0}, {1, 0, 0}}, torch::kLong);
  const at::Tensor tokens = torch::arange(2 * 3 * 2, torch::kFloat).reshape({2, 3, 2});
  EXPECT_TRUE(at::equal(real_token_values(tokens, mask), torch::tensor({0.f, 1.f, 2.f, 3.f, 6.f, 7.f})));
  const at::Tensor maps = torch::arange(2 * 1 * 3 * 3, torch::kFloat).reshape({2, 1, 3, 3});
  EXPECT_TRUE(at::equal(real_token_values(maps, mask), torch::tensor({0.f, 1.f, 3.f, 4.f, 9.f})));
  const at::Tensor context = torch::arange(2 * 1 * 3 * 2, torch::kFloat).reshape({2, 1, 3, 2});
  EXPECT_TRUE(at::equal(real_token_values(context, mask), torch::tensor({0.f, 1.f, 2.f, 3.f, 6.f, 7.f})));
  const at::Tensor rows = torch::arange(4, torch::kFloat).reshape({2, 2});
  EXPECT_TRUE(at::equal(real_token_values(rows, mask), rows.reshape({-1})));
}

TEST(BlockErrorTest, PaddedPositionsDoNotChangeTheErrors) {
  Fixture f = fixture();
  ASSERT_EQ(f.batch.attention_mask.min().item<int64_t>(), 0) << "the golden batch has padding";
  // Under the hf mask (calibrated with it) a padded token cannot reach a real
  // position, so other tokens there must leave every error as it is.
  f.model->bert->set_attention_mask(models::bert::AttentionMask::hf());
  QuantSim sim(f.model, QuantSimConfig::aimet_default(), w8a4());
  sim.compute_encodings(f.calibrate);
  const train::TaskDataset data = test::dataset_of(f.batch);
  train::TaskDataset other = data;
  other.input_ids = data.input_ids.clone();
  other.input_ids.masked_fill_(data.attention_mask.eq(0), 7);
  const auto errors = block_errors(sim, f.model, data, BlockErrorOptions().samples(100).batch_size(2));
  const auto with_other = block_errors(sim, f.model, other, BlockErrorOptions().samples(100).batch_size(2));
  ASSERT_FALSE(errors.empty());
  ASSERT_EQ(errors.size(), with_other.size());
  int64_t real = 0;
  for (std::size_t i = 0; i < errors.size(); ++i) {
    EXPECT_EQ(errors[i].block, with_other[i].block);
    EXPECT_EQ(errors[i].elements, with_other[i].elements);
    EXPECT_NEAR(errors[i].mse, with_other[i].mse, 1e-9 * (1.0 + errors[i].mse)) << errors[i].block;
    if (errors[i].block == "bert.encoder.layer.0.attention.output.dense") real = errors[i].elements;
  }
  EXPECT_EQ(real, f.batch.attention_mask.sum().item<int64_t>() * f.model->config.hidden_size) << "real tokens only";
  EXPECT_EQ(sim.mode(), sim::Mode::quantized);
  EXPECT_EQ(errors.front().block, "bert.embeddings.word_embeddings") << "forward order";
}

TEST(QuantizerStatsTest, HistogramsCountWhatCalibrationSawAndCoverTheEncoding) {
  Fixture f = fixture();
  QuantSim sim(f.model, QuantSimConfig::aimet_default(), w8a4());
  std::map<std::string, int64_t> seen;
  sim.set_calibration_observer([&](const sim::QuantizerSlot& s, const torch::Tensor& x) { seen[s.name] += x.numel(); });
  sim.compute_encodings(f.calibrate);
  const auto stats = quantizer_stats(sim, f.calibrate, QuantizerStatsOptions().bins(32));
  ASSERT_FALSE(stats.empty());
  int64_t channel_stats = 0;
  for (const QuantizerStats& s : stats) {
    int64_t total = 0;
    for (const int64_t n : s.histogram) total += n;
    ASSERT_EQ(s.histogram.size(), 32u) << s.name;
    if (s.kind != sim::SlotKind::param) {
      EXPECT_EQ(total, seen.at(s.name)) << s.name;
    }
    const auto encodings = sim.slot(s.name).node->encodings();
    ASSERT_EQ(s.encoding_min.size(), encodings.size());
    EXPECT_EQ(s.encoding_min.front(), encodings.front().min);
    EXPECT_LE(s.histogram_min, s.encoding_min.front());
    EXPECT_GE(s.histogram_max, s.encoding_max.front());
    if (!s.channel_min.empty()) {
      ++channel_stats;
      EXPECT_EQ(static_cast<int64_t>(s.channel_min.size()), f.model->config.hidden_size);
    }
  }
  EXPECT_EQ(channel_stats, 3 * f.model->config.num_hidden_layers) << "FFN output, dropout and residual sum per layer";
  EXPECT_EQ(sim.mode(), sim::Mode::quantized);
}

}  // namespace
}  // namespace qsim::ptq
