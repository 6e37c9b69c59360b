// SimOptions' name rules: mixed precision (bitwidth overrides) and per-embedding-
// group activations. Each setting must change exactly the quantizers it names,
// calibrate them as the semantics say, and survive export / import and
// quantized checkpoints bit for bit.

#include <filesystem>
#include <map>
#include <regex>

#include <gtest/gtest.h>

#include "qsim/analysis/encoding_analyzer.hpp"
#include "qsim/error.hpp"
#include "qsim/models/bert/quantizer_patterns.hpp"
#include "qsim/quant/embedding_groups.hpp"
#include "qsim/sim/quant_sim.hpp"
#include "qsim/sim/quantized_checkpoint.hpp"
#include "support/expect_error.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Written out by hand (not through the library's pattern): each layer's FFN output,
// its dropout and the residual sum.
bool is_ffn_residual(const std::string& name) {
  static const char* suffixes[] = {".output.dense.output_quantizer", ".output.dropout.output_quantizer",
                                   ".output.add.output_quantizer"};
  if (name.find("bert.encoder.layer.") != 0) return false;
  for (const char* s : suffixes) {
    const std::string suffix(s);
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        name.find("attention") == std::string::npos) {
      return true;
    }
  }
  return false;
}

torch::Tensor logits(models::bert::BertForTask& model, const test::Batch& b) {
  torch::NoGradGuard no_grad;
  return model(b.input_ids, b.token_type_ids, b.attention_mask).logits;
}

QuantSim calibrated(models::bert::BertForTask& model, const test::Batch& b, const SimOptions& options,
                    int* passes = nullptr) {
  QuantSim sim(model, QuantSimConfig::aimet_default(), options);
  sim.compute_encodings([&](torch::nn::Module&) {
    if (passes != nullptr) ++*passes;
    model(b.input_ids, b.token_type_ids, b.attention_mask);
  });
  return sim;
}

SimOptions ffn16(QuantScheme scheme = QuantScheme::tf) {
  return SimOptions().scheme(scheme).bitwidth_overrides({{models::bert::kFfnResidualQuantizers, 16}});
}

SimOptions ffn_peg(int64_t groups, QuantScheme scheme = QuantScheme::tf) {
  return SimOptions().scheme(scheme).embedding_groups({{models::bert::kFfnResidualQuantizers, groups, true}});
}

TEST(MixedPrecisionTest, LowerBitwidthsApplyWhereW8A8Applies) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const QuantSim base(model, QuantSimConfig::aimet_default(), SimOptions());
  auto other = test::load_tiny("sharp", "seqcls2");
  const QuantSim w4a6(other, QuantSimConfig::aimet_default(), SimOptions().param_bitwidth(4).output_bitwidth(6));
  ASSERT_EQ(base.quantizers().size(), w4a6.quantizers().size());
  for (std::size_t i = 0; i < base.quantizers().size(); ++i) {
    const QuantizerSlot& a = base.quantizers()[i];
    const QuantizerSlot& b = w4a6.quantizers()[i];
    EXPECT_EQ(a.active, b.active) << a.name;
    EXPECT_EQ(a.node->options.symmetry(), b.node->options.symmetry()) << a.name;
    EXPECT_EQ(b.node->options.bitwidth(), a.kind == SlotKind::param ? 4 : 6) << a.name;
  }
}

TEST(MixedPrecisionTest, FfnResidualOverrideChangesExactlyThoseQuantizers) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const int64_t layers = model->config.num_hidden_layers;
  const test::Batch b = test::load_batch("sharp");
  const QuantSim sim = calibrated(model, b, ffn16());
  int64_t sixteen = 0;
  for (const QuantizerSlot& s : sim.quantizers()) {
    EXPECT_EQ(s.node->options.bitwidth(), is_ffn_residual(s.name) ? 16 : 8) << s.name;
    sixteen += s.node->options.bitwidth() == 16 ? 1 : 0;
  }
  EXPECT_EQ(sixteen, 3 * layers);
  // The export carries the width: 16 where overridden, 8 elsewhere.
  const json j = sim.encodings_json();
  int64_t exported16 = 0;
  for (const auto& [block, kinds] : j.at("activation_encodings").items()) {
    for (const auto& [kind, indices] : kinds.items()) {
      for (const auto& [index, e] : indices.items()) {
        const std::string name = block + (kind == "output" ? ".output_quantizer" : ".input_quantizers." + index);
        EXPECT_EQ(e.at("bitwidth"), is_ffn_residual(name) ? 16 : 8) << name;
        exported16 += e.at("bitwidth") == 16 ? 1 : 0;
      }
    }
  }
  EXPECT_EQ(exported16, 3 * layers);
  for (const auto& [tensor, list] : j.at("param_encodings").items()) EXPECT_EQ(list[0].at("bitwidth"), 8) << tensor;
  // 16 bits: a far finer grid than 8 on the same range.
  const quant::Encoding e = sim.slot("bert.encoder.layer.0.output.add.output_quantizer").node->encoding();
  EXPECT_NEAR(e.delta, (e.max - e.min) / 65535.0, 1e-12);
}

TEST(MixedPrecisionTest, LaterOverridesWinAndBadRulesAreClearErrors) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const QuantSim sim(model, QuantSimConfig::aimet_default(),
                     SimOptions().bitwidth_overrides({{R"(output\.add)", 16}, {R"(layer\.0\.output\.add)", 12}}));
  EXPECT_EQ(sim.slot("bert.encoder.layer.0.output.add.output_quantizer").node->options.bitwidth(), 12);
  EXPECT_EQ(sim.slot("bert.encoder.layer.1.output.add.output_quantizer").node->options.bitwidth(), 16);
  EXPECT_EQ(sim.slot("bert.encoder.layer.1.attention.output.add.output_quantizer").node->options.bitwidth(), 16);

  const auto make = [&](const SimOptions& options) { QuantSim s(model, QuantSimConfig::aimet_default(), options); };
  QSIM_EXPECT_THROW_MSG(make(SimOptions().bitwidth_overrides({{"no_such_block", 16}})), ConfigError,
                        {"'no_such_block' matches no quantizer"});
  QSIM_EXPECT_THROW_MSG(make(SimOptions().bitwidth_overrides({{"output\\.(add", 16}})), ConfigError,
                        {"not a valid regular expression"});
  QSIM_EXPECT_THROW_MSG(make(SimOptions().bitwidth_overrides({{"add", 33}})), ConfigError, {"[4, 32]", "33"});
  QSIM_EXPECT_THROW_MSG(make(SimOptions().bitwidth_overrides({{"add", 0}})), ConfigError, {"[4, 32]", "got 0"});
  QSIM_EXPECT_THROW_MSG(make(SimOptions().embedding_groups({{R"(query\.weight)", 2, true}})), ConfigError,
                        {"parameter quantizer", "query.weight_quantizer"});
  QSIM_EXPECT_THROW_MSG(make(SimOptions().embedding_groups({{"output\\.add", 0, true}})), ConfigError,
                        {"groups must be >= 1"});
  QSIM_EXPECT_THROW_MSG(parse_bitwidth_override("add"), ConfigError, {"PATTERN=NUMBER"});
  QSIM_EXPECT_THROW_MSG(parse_embedding_groups_rule("add=six"), ConfigError, {"'six' is not an integer"});
  const BitwidthOverride parsed = parse_bitwidth_override("a=b=16");
  EXPECT_EQ(parsed.pattern, "a=b");
  EXPECT_EQ(parsed.bitwidth, 16);
}

TEST(EmbeddingGroupsSimTest, GroupsOnlyTheNamedActivationsWithTheirOwnTfEncodings) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const int64_t hidden = model->config.hidden_size;
  const test::Batch b = test::load_batch("sharp");
  std::map<std::string, std::vector<torch::Tensor>> seen;
  QuantSim sim(model, QuantSimConfig::aimet_default(), ffn_peg(4));
  sim.set_calibration_observer(
      [&seen](const QuantizerSlot& s, const torch::Tensor& x) { seen[s.name].push_back(x.detach().clone()); });
  int passes = 0;
  sim.compute_encodings([&](torch::nn::Module&) {
    ++passes;
    model(b.input_ids, b.token_type_ids, b.attention_mask);
  });
  EXPECT_EQ(passes, 1);  // TF: the layout pass has every group's min and max
  int64_t grouped = 0;
  for (const QuantizerSlot& s : sim.quantizers()) {
    const bool expected = is_ffn_residual(s.name);
    EXPECT_EQ(s.node->options.embedding_groups(), expected ? 4 : 0) << s.name;
    if (!expected) continue;
    ++grouped;
    const std::vector<int64_t>& layout = s.node->group_of_channel();
    ASSERT_EQ(static_cast<int64_t>(layout.size()), hidden) << s.name;
    const torch::Tensor x = seen.at(s.name).front().reshape({-1, hidden});
    EXPECT_EQ(layout, quant::range_based_groups(std::get<0>(x.min(0)), std::get<0>(x.max(0)), 4)) << s.name;
    const std::vector<quant::Encoding> encodings = s.node->encodings();
    ASSERT_EQ(encodings.size(), 4u);
    const auto members = quant::channels_of_groups(layout, 4);
    for (int64_t g = 0; g < 4; ++g) {
      const torch::Tensor values = x.index_select(1, torch::tensor(members[static_cast<size_t>(g)]));
      auto tf = analysis::make_analyzer(analysis::AnalyzerKind::tf);
      tf->update_stats(values);
      EXPECT_EQ(encodings[static_cast<size_t>(g)], tf->compute_encoding(8, quant::Symmetry::asymmetric))
          << s.name << " group " << g;
    }
  }
  EXPECT_EQ(grouped, 3 * model->config.num_hidden_layers);
  // The quantized forward really uses the groups: it differs from per-tensor W8A8.
  const torch::Tensor with_groups = logits(model, b);
  auto plain_model = test::load_tiny("sharp", "seqcls2");
  calibrated(plain_model, b, SimOptions().scheme(QuantScheme::tf));
  EXPECT_FALSE(torch::equal(with_groups, logits(plain_model, b)));
}

TEST(EmbeddingGroupsSimTest, HistogramSchemesCalibrateInTwoPasses) {
  const test::Batch b = test::load_batch("sharp");
  for (const QuantScheme scheme : {QuantScheme::tf, QuantScheme::tf_enhanced, QuantScheme::tf_range_learning}) {
    auto model = test::load_tiny("sharp", "seqcls2");
    int passes = 0;
    calibrated(model, b, ffn_peg(3, scheme), &passes);
    EXPECT_EQ(passes, scheme == QuantScheme::tf_enhanced ? 2 : 1) << to_string(scheme);
    auto plain = test::load_tiny("sharp", "seqcls2");
    int plain_passes = 0;
    calibrated(plain, b, SimOptions().scheme(scheme), &plain_passes);
    EXPECT_EQ(plain_passes, 1) << to_string(scheme);
  }
}

TEST(EmbeddingGroupsSimTest, ExportListsEveryChannelAndTheLayout) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const int64_t hidden = model->config.hidden_size;
  const test::Batch b = test::load_batch("sharp");
  const QuantSim sim = calibrated(model, b, ffn_peg(3).bitwidth_overrides({{R"(output\.add\.output)", 12}}));
  const json j = sim.encodings_json();
  const json& entry = j.at("activation_encodings").at("bert.encoder.layer.1.output.add").at("output").at("0");
  ASSERT_TRUE(entry.is_array());
  ASSERT_EQ(static_cast<int64_t>(entry.size()), hidden);
  const json& layout = j.at("embedding_groups").at("bert.encoder.layer.1.output.add").at("output").at("0");
  const QuantizerSlot& s = sim.slot("bert.encoder.layer.1.output.add.output_quantizer");
  EXPECT_EQ(layout.get<std::vector<int64_t>>(), s.node->group_of_channel());
  const std::vector<quant::Encoding> groups = s.node->encodings();
  for (int64_t c = 0; c < hidden; ++c) {
    const quant::Encoding& e = groups.at(static_cast<size_t>(layout[static_cast<size_t>(c)].get<int64_t>()));
    EXPECT_EQ(entry[static_cast<size_t>(c)].at("min").get<double>(), e.min) << c;
    EXPECT_EQ(entry[static_cast<size_t>(c)].at("max").get<double>(), e.max) << c;
    EXPECT_EQ(entry[static_cast<size_t>(c)].at("bitwidth"), 12) << c;
  }
  EXPECT_TRUE(j.at("activation_encodings").at("bert.encoder.layer.1.output.LayerNorm").at("output").at("0").is_object());
  EXPECT_FALSE(j.at("embedding_groups").contains("bert.encoder.layer.1.output.LayerNorm"));
}

class GroupsRoundTripTest : public ::testing::TestWithParam<QuantScheme> {};

TEST_P(GroupsRoundTripTest, ExportImportAndCheckpointAreBitIdentical) {
  auto model = test::load_tiny("sharp", "seqcls3");
  const test::Batch b = test::load_batch("sharp");
  const SimOptions options = ffn_peg(5, GetParam()).bitwidth_overrides({{R"(output\.dense\.output)", 16}});
  QuantSim sim = calibrated(model, b, options);
  if (is_range_learning(GetParam())) {
    torch::NoGradGuard no_grad;
    torch::manual_seed(3);
    for (torch::Tensor& p : sim.range_parameters()) p.mul_(1.0 + 0.03 * torch::rand_like(p));
  }
  const torch::Tensor expected = logits(model, b);
  const fs::path dir = fs::temp_directory_path() /
                       ("qsim_groups_roundtrip_" + std::string(to_string(GetParam())) + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  sim.export_encodings((dir / "model.encodings").string());

  auto fresh = test::load_tiny("sharp", "seqcls3");
  QuantSim loaded(fresh, QuantSimConfig::aimet_default(), options);
  loaded.load_encodings_file((dir / "model.encodings").string());
  EXPECT_TRUE(torch::equal(expected, logits(fresh, b)));
  EXPECT_EQ(loaded.slot("bert.encoder.layer.0.output.add.output_quantizer").node->group_of_channel(),
            sim.slot("bert.encoder.layer.0.output.add.output_quantizer").node->group_of_channel());

  save_quantized(sim, (dir / "ckpt").string());
  QuantizedBert restored = load_quantized_bert((dir / "ckpt").string());
  restored.model->eval();
  EXPECT_TRUE(torch::equal(expected, logits(restored.model, b)));
  EXPECT_EQ(restored.sim.slot("bert.encoder.layer.1.output.dense.output_quantizer").node->options.bitwidth(), 16);
  EXPECT_EQ(restored.sim.options().embedding_groups().size(), 1u);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Schemes, GroupsRoundTripTest,
                         ::testing::Values(QuantScheme::tf, QuantScheme::tf_enhanced, QuantScheme::tf_range_learning),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(EmbeddingGroupsSimTest, FilesThatDoNotFitTheGroupsAreClearErrors) {
  const test::Batch b = test::load_batch("sharp");
  auto model = test::load_tiny("sharp", "seqcls2");
  const json good = calibrated(model, b, ffn_peg(2)).encodings_json();
  const std::string block = "bert.encoder.layer.0.output.add";
  const auto load = [&](const json& j, const SimOptions& options) {
    auto fresh = test::load_tiny("sharp", "seqcls2");
    QuantSim sim(fresh, QuantSimConfig::aimet_default(), options);
    sim.load_encodings(j, "bad.encodings");
  };
  QSIM_EXPECT_THROW_MSG(load(good, SimOptions().scheme(QuantScheme::tf)), ConfigError,
                        {"bad.encodings", "output.add", "per tensor"});
  QSIM_EXPECT_THROW_MSG(load(good, ffn_peg(3)), ConfigError, {"channel", "group"});
  json no_layout = good;
  no_layout.erase("embedding_groups");
  QSIM_EXPECT_THROW_MSG(load(no_layout, ffn_peg(2)), ConfigError, {"no 'embedding_groups' layout"});
  json mixed = good;
  json& list = mixed["activation_encodings"][block]["output"]["0"];
  const json& layout = mixed["embedding_groups"][block]["output"]["0"];
  std::size_t second = 1;
  while (layout[second] != layout[0]) ++second;
  list[second]["max"] = list[second]["max"].get<double>() * 2.0;
  QSIM_EXPECT_THROW_MSG(load(mixed, ffn_peg(2)), ConfigError, {"different encodings"});
  json short_layout = good;
  short_layout["embedding_groups"][block]["output"]["0"].erase(0);
  QSIM_EXPECT_THROW_MSG(load(short_layout, ffn_peg(2)), ConfigError, {"group indices"});
}

}  // namespace
}  // namespace qsim::sim
