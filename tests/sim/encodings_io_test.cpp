// AIMET encodings JSON (semantics §4.3) and quantized checkpoints: format, exact
// round trips (bit-identical outputs) and clear errors for files that do not fit.

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "qsim/error.hpp"

#include "qsim/sim/quant_sim.hpp"
#include "qsim/sim/quantized_checkpoint.hpp"
#include "support/expect_error.hpp"
#include "tiny_bert.hpp"

namespace qsim::sim {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("qsim_sim_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

torch::Tensor logits(models::bert::BertForTask& model, const test::Batch& b) {
  torch::NoGradGuard no_grad;
  return model(b.input_ids, b.token_type_ids, b.attention_mask).logits;
}

QuantSim calibrated(models::bert::BertForTask& model, const test::Batch& b, SimOptions options) {
  QuantSim sim(model, QuantSimConfig::aimet_default(), options);
  sim.compute_encodings([&](torch::nn::Module&) { model(b.input_ids, b.token_type_ids, b.attention_mask); });
  return sim;
}

// Moves every learned range off the calibrated grid, as training would.
void perturb_ranges(QuantSim& sim) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  for (torch::Tensor& p : sim.range_parameters()) p.mul_(1.0 + 0.03 * torch::rand_like(p));
}

TEST(EncodingsJsonTest, HasAimetLayout) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const test::Batch b = test::load_batch("sharp");
  const QuantSim sim = calibrated(model, b, SimOptions().scheme(QuantScheme::tf));
  const json j = sim.encodings_json();
  EXPECT_EQ(j.at("version"), "0.5.1");
  const json& w = j.at("param_encodings").at("bert.encoder.layer.0.attention.self.query.weight");
  ASSERT_TRUE(w.is_array());
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].at("dtype"), "int");
  EXPECT_EQ(w[0].at("is_symmetric"), "True");
  EXPECT_EQ(w[0].at("bitwidth"), 8);
  EXPECT_TRUE(w[0].at("offset").is_number_integer());
  EXPECT_EQ(w[0].at("offset"), -128);
  const quant::Encoding e = sim.slot("bert.encoder.layer.0.attention.self.query.weight_quantizer").node->encoding();
  EXPECT_EQ(w[0].at("min").get<double>(), e.min);
  EXPECT_EQ(w[0].at("scale").get<double>(), e.delta);
  EXPECT_FALSE(j.at("param_encodings").contains("bert.encoder.layer.0.attention.self.query.bias"));
  const json& mask_add = j.at("activation_encodings").at("bert.encoder.layer.1.attention.self.mask_add");
  EXPECT_EQ(mask_add.at("input").size(), 1u);
  EXPECT_EQ(mask_add.at("input").at("0").at("is_symmetric"), "False");
  EXPECT_TRUE(mask_add.at("output").at("0").is_object());
  EXPECT_FALSE(j.at("activation_encodings").contains("bert.embeddings.word_embeddings") &&
               j.at("activation_encodings").at("bert.embeddings.word_embeddings").contains("input"));
}

TEST(EncodingsJsonTest, LearnedQuantizersReportRecomputedScaleAndOffset) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const test::Batch b = test::load_batch("sharp");
  QuantSim sim = calibrated(model, b, SimOptions().scheme(QuantScheme::tf_range_learning));
  perturb_ranges(sim);
  const json j = sim.encodings_json();
  const QuantizerSlot& s = sim.slot("classifier.output_quantizer");
  const json& e = j.at("activation_encodings").at("classifier").at("output").at("0");
  const double min = s.node->encoding_min.item<float>(), max = s.node->encoding_max.item<float>();
  EXPECT_EQ(e.at("min").get<double>(), min);
  EXPECT_EQ(e.at("max").get<double>(), max);
  EXPECT_EQ(e.at("scale").get<double>(), (max - min) / 255.0);
  EXPECT_EQ(e.at("offset").get<double>(), std::nearbyint(min / ((max - min) / 255.0)));
}

class RoundTripTest : public ::testing::TestWithParam<QuantScheme> {};

TEST_P(RoundTripTest, ExportImportIsBitIdentical) {
  auto model = test::load_tiny("sharp", "seqcls2");
  const test::Batch b = test::load_batch("sharp");
  QuantSim sim = calibrated(model, b, SimOptions().scheme(GetParam()));
  if (is_range_learning(GetParam())) perturb_ranges(sim);
  const torch::Tensor expected = logits(model, b);
  const fs::path dir = temp_dir(std::string(to_string(GetParam())));
  sim.export_encodings((dir / "model_torch.encodings").string());

  auto fresh = test::load_tiny("sharp", "seqcls2");
  QuantSim loaded(fresh, QuantSimConfig::aimet_default(), SimOptions().scheme(GetParam()));
  loaded.load_encodings_file((dir / "model_torch.encodings").string());
  EXPECT_TRUE(torch::equal(expected, logits(fresh, b)));
  EXPECT_EQ(loaded.active_quantizers().size(), sim.active_quantizers().size());
  EXPECT_EQ(loaded.mode(), sim.mode());
  fs::remove_all(dir);
}

TEST_P(RoundTripTest, QuantizedCheckpointRestoresBitIdenticalOutputs) {
  auto model = test::load_tiny("sharp", "seqcls3");
  const test::Batch b = test::load_batch("sharp");
  QuantSim sim = calibrated(model, b, SimOptions().scheme(GetParam()));
  if (is_range_learning(GetParam())) perturb_ranges(sim);
  sim.set_enabled("bert.pooler.activation.output_quantizer", false);  // user overrides survive too
  const torch::Tensor expected = logits(model, b);
  const fs::path dir = temp_dir("ckpt_" + std::string(to_string(GetParam())));
  save_quantized(sim, dir.string());
  for (const char* file : {"model.safetensors", "config.json", kEncodingsFileName, kQuantsimConfigFileName,
                           kQuantsimStateFileName}) {
    EXPECT_TRUE(fs::exists(dir / file)) << file;
  }
  QuantizedBert restored = load_quantized_bert(dir.string());
  restored.model->eval();
  EXPECT_TRUE(torch::equal(expected, logits(restored.model, b)));
  EXPECT_EQ(restored.sim.mode(), sim.mode());
  EXPECT_FALSE(restored.sim.slot("bert.pooler.activation.output_quantizer").active);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Schemes, RoundTripTest,
                         ::testing::Values(QuantScheme::tf, QuantScheme::tf_enhanced, QuantScheme::tf_range_learning),
                         [](const auto& info) { return std::string(to_string(info.param)); });

class BadEncodingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const test::Batch b = test::load_batch("std002");
    QuantSim sim = calibrated(model_, b, SimOptions().scheme(QuantScheme::tf));
    good_ = sim.encodings_json();
  }
  void expect_rejected(const json& j, std::initializer_list<const char*> parts) {
    auto fresh = test::load_tiny("std002", "seqcls2");
    QuantSim sim(fresh, QuantSimConfig::aimet_default(), SimOptions().scheme(QuantScheme::tf));
    bool thrown = false;
    try {
      sim.load_encodings(j, "bad.encodings");
    } catch (const ConfigError& e) {
      thrown = true;
      for (const char* part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
    EXPECT_TRUE(thrown);
    EXPECT_FALSE(sim.calibrated());
  }
  models::bert::BertForTask model_ = test::load_tiny("std002", "seqcls2");
  json good_;
};

TEST_F(BadEncodingsTest, RejectsEncodingsThatDoNotFit) {
  json j = good_;
  j["param_encodings"]["classifier.weight"][0]["bitwidth"] = 4;
  expect_rejected(j, {"bad.encodings", "classifier.weight", "bitwidth 4"});
  j = good_;
  j["param_encodings"]["classifier.weight"].push_back(j["param_encodings"]["classifier.weight"][0]);
  expect_rejected(j, {"classifier.weight", "2 encodings", "expects 1"});
  j = good_;
  j["param_encodings"]["classifier.gamma"] = j["param_encodings"]["classifier.weight"];
  expect_rejected(j, {"classifier.gamma"});
  j = good_;
  j["activation_encodings"]["bert.encoder.layer.7.attention.self.softmax"] =
      j["activation_encodings"]["bert.encoder.layer.0.attention.self.softmax"];
  expect_rejected(j, {"bert.encoder.layer.7.attention.self.softmax"});
  j = good_;
  j["activation_encodings"]["classifier"]["input"]["3"] = j["activation_encodings"]["classifier"]["output"]["0"];
  expect_rejected(j, {"classifier", "input", "3"});
  j = good_;
  j["activation_encodings"]["classifier"]["output"]["0"]["is_symmetric"] = true;
  expect_rejected(j, {"classifier", "is_symmetric"});
  j = good_;
  j["activation_encodings"]["classifier"]["output"]["0"].erase("min");
  expect_rejected(j, {"classifier", "'min'"});
  j = good_;
  j["activations"] = json::object();
  expect_rejected(j, {"unknown key 'activations'"});
}

TEST_F(BadEncodingsTest, RejectsPerTensorEncodingsForPerChannelQuantizers) {
  auto fresh = test::load_tiny("std002", "seqcls2");
  QuantSim sim(fresh, QuantSimConfig::aimet_default(), SimOptions().scheme(QuantScheme::tf).per_channel(true));
  QSIM_EXPECT_THROW_MSG(sim.load_encodings(good_, "bad.encodings"), ConfigError,
                        {"bad.encodings", "encodings", "per channel along axis 0"});
}

TEST(QuantizedCheckpointTest, MissingFilesAreIoErrors) {
  const fs::path dir = temp_dir("missing");
  const std::string path = dir.string();
  QSIM_EXPECT_THROW_MSG(load_quantized_bert(path), IoError, {path.c_str()});
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qsim::sim
