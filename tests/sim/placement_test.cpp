// Quantizer placement (semantics §7.2, §7.5) on 2-layer BERTs with every head.

#include <set>

#include <gtest/gtest.h>

#include "qsim/error.hpp"

#include "qsim/sim/quant_sim.hpp"
#include "support/expect_error.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

using models::bert::BertHead;
using nlohmann::json;

const std::vector<std::string> kLayerActivations = {
    "attention.self.query.output_quantizer",         "attention.self.key.output_quantizer",
    "attention.self.value.output_quantizer",         "attention.self.matmul_1.output_quantizer",
    "attention.self.mask_add.input_quantizers.0",    "attention.self.mask_add.output_quantizer",
    "attention.self.softmax.output_quantizer",       "attention.self.dropout.output_quantizer",
    "attention.self.matmul_2.output_quantizer",      "attention.output.dense.output_quantizer",
    "attention.output.dropout.output_quantizer",     "attention.output.add.output_quantizer",
    "attention.output.LayerNorm.output_quantizer",   "intermediate.dense.output_quantizer",
    "intermediate.intermediate_act_fn.output_quantizer", "output.dense.output_quantizer",
    "output.dropout.output_quantizer",               "output.add.output_quantizer",
    "output.LayerNorm.output_quantizer"};
const std::vector<std::string> kLayerParams = {
    "attention.self.query.weight_quantizer",      "attention.self.key.weight_quantizer",
    "attention.self.value.weight_quantizer",      "attention.output.dense.weight_quantizer",
    "attention.output.LayerNorm.weight_quantizer", "intermediate.dense.weight_quantizer",
    "output.dense.weight_quantizer",              "output.LayerNorm.weight_quantizer"};

// §7.5 after calibration (int64 inputs never quantized); `before` adds the integer
// input slots that model_input and the functional Mul enable at construction.
std::set<std::string> expected_active(BertHead head, int64_t layers, bool before) {
  std::set<std::string> names;
  const std::string e = "bert.embeddings.";
  for (const char* n : {"word_embeddings", "token_type_embeddings", "position_embeddings"}) {
    names.insert(e + n + ".weight_quantizer");
    names.insert(e + n + ".output_quantizer");
  }
  for (const char* n : {"add_1", "add_2", "LayerNorm", "dropout"}) names.insert(e + n + ".output_quantizer");
  names.insert(e + "LayerNorm.weight_quantizer");
  if (before) {
    names.insert(e + "word_embeddings.input_quantizers.0");
    names.insert(e + "token_type_embeddings.input_quantizers.0");
  }
  for (int64_t i = 0; i < layers; ++i) {
    const std::string l = "bert.encoder.layer." + std::to_string(i) + ".";
    for (const auto& n : kLayerActivations) names.insert(l + n);
    for (const auto& n : kLayerParams) names.insert(l + n);
    if (before) names.insert(l + "attention.self.mask_add.input_quantizers.1");
  }
  if (head == BertHead::sequence_classification) {
    for (const char* n : {"bert.pooler.dense.weight_quantizer", "bert.pooler.dense.output_quantizer",
                          "bert.pooler.activation.output_quantizer", "dropout.output_quantizer",
                          "classifier.weight_quantizer", "classifier.output_quantizer"}) {
      names.insert(n);
    }
  } else {
    names.insert("qa_outputs.weight_quantizer");
    names.insert("qa_outputs.output_quantizer");
  }
  return names;
}

std::set<std::string> active_names(const QuantSim& sim) {
  std::set<std::string> names;
  for (const QuantizerSlot* s : sim.active_quantizers()) names.insert(s->name);
  return names;
}

void calibrate(QuantSim& sim, models::bert::BertForTask& model) {
  const test::Batch b = test::random_batch(model->config);
  sim.compute_encodings([&](torch::nn::Module&) { model(b.input_ids, b.token_type_ids, b.attention_mask); });
}

struct HeadCase {
  BertHead head;
  int64_t labels;
};

class PlacementTest : public ::testing::TestWithParam<HeadCase> {};

TEST_P(PlacementTest, MatchesSemanticsTables) {
  auto model = test::random_bert(GetParam().head, GetParam().labels);
  QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(QuantScheme::tf));
  const int64_t layers = model->config.num_hidden_layers;
  EXPECT_EQ(active_names(sim), expected_active(GetParam().head, layers, true));
  calibrate(sim, model);
  EXPECT_EQ(active_names(sim), expected_active(GetParam().head, layers, false));

  // 19 activation + 8 parameter quantizers per layer; W symmetric, A asymmetric, 8 bits.
  for (int64_t i = 0; i < layers; ++i) {
    const std::string prefix = "bert.encoder.layer." + std::to_string(i) + ".";
    int activations = 0, params = 0;
    for (const QuantizerSlot* s : sim.active_quantizers()) {
      if (s->name.rfind(prefix, 0) != 0) continue;
      (s->kind == SlotKind::param ? params : activations) += 1;
    }
    EXPECT_EQ(activations, 19);
    EXPECT_EQ(params, 8);
  }
  for (const QuantizerSlot* s : sim.active_quantizers()) {
    EXPECT_EQ(s->node->options.bitwidth(), 8) << s->name;
    EXPECT_FALSE(s->node->options.channel_axis().has_value()) << s->name;
    const auto expected = s->kind == SlotKind::param ? quant::Symmetry::unsigned_symmetric : quant::Symmetry::asymmetric;
    EXPECT_EQ(s->node->options.symmetry(), expected) << s->name;
    EXPECT_TRUE(s->node->enabled()) << s->name;
  }
  EXPECT_EQ(sim.mode(), Mode::quantized);
}

INSTANTIATE_TEST_SUITE_P(Heads, PlacementTest,
                         ::testing::Values(HeadCase{BertHead::sequence_classification, 2},
                                           HeadCase{BertHead::sequence_classification, 3},
                                           HeadCase{BertHead::sequence_classification, 1},
                                           HeadCase{BertHead::question_answering, 2}),
                         [](const auto& info) {
                           return (info.param.head == BertHead::question_answering ? std::string("qa") : "seqcls") +
                                  std::to_string(info.param.labels);
                         });

TEST(PlacementTest, GoldenModelsPlaceTheSameTables) {
  for (const char* head : {"seqcls2", "regression", "qa"}) {
    auto model = test::load_tiny("std002", head);
    QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(QuantScheme::tf));
    EXPECT_EQ(active_names(sim), expected_active(model->config.head, model->config.num_hidden_layers, true)) << head;
  }
}

json config_with(const std::function<void(json&)>& edit) {
  json j = json::parse(default_config_text());
  edit(j);
  return j;
}

TEST(PlacementTest, PerChannelConfigGivesOneEncodingPerOutputChannel) {
  auto model = test::random_bert(BertHead::sequence_classification);
  const json j = config_with([](json& c) { c["defaults"]["per_channel_quantization"] = "True"; });
  QuantSim sim(model, QuantSimConfig::from_json(j), SimOptions().scheme(QuantScheme::tf));
  calibrate(sim, model);
  const QuantizerSlot& q = sim.slot("bert.encoder.layer.0.attention.self.query.weight_quantizer");
  EXPECT_EQ(q.node->options.channel_axis(), 0);
  EXPECT_EQ(static_cast<int64_t>(q.node->encodings().size()), model->config.hidden_size);
  EXPECT_EQ(static_cast<int64_t>(sim.slot("classifier.weight_quantizer").node->encodings().size()),
            model->config.num_labels);
  EXPECT_FALSE(sim.slot("classifier.output_quantizer").node->options.channel_axis().has_value());
  // The option overrides the config.
  auto model2 = test::random_bert(BertHead::sequence_classification);
  QuantSim off(model2, QuantSimConfig::from_json(j), SimOptions().per_channel(false));
  EXPECT_FALSE(off.slot("classifier.weight_quantizer").node->options.channel_axis().has_value());
}

TEST(PlacementTest, SupergroupFusesGemmAndGelu) {
  auto model = test::random_bert(BertHead::sequence_classification);
  const json j = config_with([](json& c) { c["supergroups"].push_back({{"op_list", {"Gemm", "GELU"}}}); });
  QuantSim sim(model, QuantSimConfig::from_json(j));
  for (int64_t i = 0; i < model->config.num_hidden_layers; ++i) {
    const std::string l = "bert.encoder.layer." + std::to_string(i) + ".intermediate.";
    EXPECT_FALSE(sim.slot(l + "dense.output_quantizer").active);
    EXPECT_TRUE(sim.slot(l + "intermediate_act_fn.output_quantizer").active);
    EXPECT_TRUE(sim.slot(l + "dense.weight_quantizer").active);
  }
  EXPECT_TRUE(sim.slot("bert.pooler.dense.output_quantizer").active);  // Gemm → Tanh is no match
}

TEST(PlacementTest, OpTypeRulesTurnQuantizersOffAndOn) {
  auto model = test::random_bert(BertHead::sequence_classification);
  const json j = config_with([](json& c) {
    c["op_type"]["Softmax"] = {{"is_output_quantized", "False"}};
    c["op_type"]["LayerNorm"] = {{"params", {{"weight", {{"is_quantized", "False"}}}}}};
    c["op_type"]["Gemm"] = {{"is_input_quantized", "True"}};
    c["op_type"]["Div"] = {{"is_output_quantized", "False"}};
  });
  QuantSim sim(model, QuantSimConfig::from_json(j));
  const std::string l = "bert.encoder.layer.1.";
  EXPECT_FALSE(sim.slot(l + "attention.self.softmax.output_quantizer").active);
  EXPECT_FALSE(sim.slot(l + "attention.output.LayerNorm.weight_quantizer").active);
  EXPECT_FALSE(sim.slot("bert.embeddings.LayerNorm.weight_quantizer").active);
  EXPECT_TRUE(sim.slot(l + "attention.output.dense.input_quantizers.0").active);
  EXPECT_TRUE(sim.slot("classifier.input_quantizers.0").active);
  // The functional Div's output off: its consumer's inputs (mask_add) go off.
  EXPECT_FALSE(sim.slot(l + "attention.self.mask_add.input_quantizers.0").active);
  EXPECT_TRUE(sim.slot(l + "attention.self.matmul_1.output_quantizer").active);
  EXPECT_TRUE(sim.slot(l + "attention.self.mask_add.output_quantizer").active);
}

TEST(PlacementTest, BiasQuantizedWhenConfigAsks) {
  auto model = test::random_bert(BertHead::question_answering);
  const json j = config_with([](json& c) { c["params"]["bias"]["is_quantized"] = "True"; });
  QuantSim sim(model, QuantSimConfig::from_json(j));
  EXPECT_TRUE(sim.slot("qa_outputs.bias_quantizer").active);
  EXPECT_TRUE(sim.slot("bert.encoder.layer.0.output.LayerNorm.bias_quantizer").active);
}

TEST(PlacementTest, LookupDisableAndModes) {
  auto model = test::random_bert(BertHead::sequence_classification);
  QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(QuantScheme::tf));
  QSIM_EXPECT_THROW_MSG(sim.slot("bert.encoder.layer.0.nonexistent.output_quantizer"), ConfigError,
                        {"'bert.encoder.layer.0.nonexistent.output_quantizer'"});
  QSIM_EXPECT_THROW_MSG(sim.set_mode(Mode::quantized), ConfigError, {"compute_encodings"});
  // Stable, module-tree order; names are the nodes' module paths.
  std::vector<std::string> names;
  for (const auto& item : model->named_modules()) {
    if (dynamic_cast<quant::QuantizerNodeImpl*>(item.value().get()) != nullptr) names.push_back(item.key());
  }
  ASSERT_EQ(names.size(), sim.quantizers().size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i], sim.quantizers()[i].name);

  const test::Batch b = test::random_batch(model->config);
  const torch::Tensor fp32 = model(b.input_ids, b.token_type_ids, b.attention_mask).logits;
  calibrate(sim, model);
  const torch::Tensor quantized = model(b.input_ids, b.token_type_ids, b.attention_mask).logits;
  EXPECT_FALSE(torch::equal(fp32, quantized));
  sim.set_mode(Mode::fp32);
  EXPECT_TRUE(torch::equal(fp32, model(b.input_ids, b.token_type_ids, b.attention_mask).logits));
  sim.set_mode(Mode::quantized);
  EXPECT_TRUE(torch::equal(quantized, model(b.input_ids, b.token_type_ids, b.attention_mask).logits));
  sim.set_enabled("classifier.output_quantizer", false);
  EXPECT_FALSE(sim.quantizer("classifier.output_quantizer")->enabled());
  EXPECT_FALSE(torch::equal(quantized, model(b.input_ids, b.token_type_ids, b.attention_mask).logits));
}

TEST(PlacementTest, OverrideFreezesAnEncoding) {
  auto model = test::random_bert(BertHead::sequence_classification);
  QuantSim sim(model, QuantSimConfig::aimet_default(), SimOptions().scheme(QuantScheme::tf_range_learning));
  const quant::Encoding e = quant::make_tf_encoding(-1.0, 1.0, 8, quant::Symmetry::asymmetric);
  sim.set_encodings("bert.pooler.activation.output_quantizer", {e});
  calibrate(sim, model);
  const QuantizerSlot& s = sim.slot("bert.pooler.activation.output_quantizer");
  EXPECT_EQ(s.node->encoding(), e);
  EXPECT_EQ(s.node->options.grid(), quant::Grid::static_grid);
  EXPECT_EQ(sim.slot("classifier.output_quantizer").node->options.grid(), quant::Grid::learned_grid);
  QSIM_EXPECT_THROW_MSG(sim.set_encodings("classifier.output_quantizer",
                                          {quant::make_tf_encoding(-1.0, 1.0, 4, quant::Symmetry::asymmetric)}),
                        ConfigError, {"bitwidth"});
}

TEST(PlacementTest, MaskAddOverrideClampsAndFreezes) {
  auto model = test::random_bert(BertHead::sequence_classification);
  QuantSim sim(model, QuantSimConfig::aimet_default(),
               SimOptions().scheme(QuantScheme::tf).mask_add_override(MaskAddOverride::aimet_static_16bit_clamp));
  const std::string m = "bert.encoder.layer.0.attention.self.mask_add.";
  EXPECT_EQ(sim.slot(m + "input_quantizers.0").node->options.bitwidth(), 16);
  calibrate(sim, model);
  const QuantizerSlot& out = sim.slot(m + "output_quantizer");
  EXPECT_TRUE(out.frozen);
  const quant::Encoding e = out.node->encoding();
  EXPECT_EQ(e.bitwidth, 8);
  EXPECT_GE(e.min, -6.0 - e.delta);
  EXPECT_DOUBLE_EQ(e.max, e.min + 255.0 * e.delta);
  EXPECT_EQ(sim.slot(m + "input_quantizers.0").node->encoding().bitwidth, 16);
}

}  // namespace
}  // namespace qsim::sim
