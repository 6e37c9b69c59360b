#include "qsim/sim/quantsim_config.hpp"

#include <gtest/gtest.h>

#include "qsim/error.hpp"

#include "qsim/sim/sim_options.hpp"
#include "support/expect_error.hpp"

namespace qsim::sim {
namespace {

using nlohmann::json;

json minimal() {
  return json::parse(R"({"defaults": {"ops": {}, "params": {}}, "params": {}, "op_type": {},
                         "supergroups": [], "model_input": {}, "model_output": {}})");
}

TEST(QuantSimConfigTest, DefaultConfigMatchesAimet123) {
  const QuantSimConfig c = QuantSimConfig::aimet_default();
  EXPECT_EQ(c.defaults.ops.is_output_quantized, true);
  EXPECT_FALSE(c.defaults.ops.is_input_quantized.has_value());
  EXPECT_FALSE(c.defaults.ops.is_symmetric.has_value());
  EXPECT_EQ(c.defaults.params.is_quantized, true);
  EXPECT_EQ(c.defaults.params.is_symmetric, true);
  EXPECT_EQ(c.defaults.strict_symmetric, false);
  EXPECT_EQ(c.defaults.unsigned_symmetric, true);
  EXPECT_EQ(c.defaults.per_channel_quantization, false);
  ASSERT_EQ(c.params.count("bias"), 1u);
  EXPECT_EQ(c.params.at("bias").is_quantized, false);
  for (const char* op : {"Squeeze", "Pad", "Mean"}) EXPECT_EQ(c.op_type.at(op).is_output_quantized, false) << op;
  ASSERT_EQ(c.supergroups.size(), 5u);
  EXPECT_EQ(c.supergroups[2], (std::vector<std::string>{"Conv", "BatchNormalization", "Relu"}));
  EXPECT_EQ(c.model_input.is_input_quantized, true);
  EXPECT_FALSE(c.model_output.is_output_quantized.has_value());
  EXPECT_EQ(c.source, json::parse(default_config_text()));
}

TEST(QuantSimConfigTest, ParsesOpTypeParamsAndPerChannel) {
  json j = minimal();
  j["op_type"]["Gemm"] = {{"is_input_quantized", "True"},
                          {"per_channel_quantization", "True"},
                          {"params", {{"weight", {{"is_symmetric", "False"}}}}}};
  const QuantSimConfig c = QuantSimConfig::from_json(j);
  EXPECT_EQ(c.op_type.at("Gemm").is_input_quantized, true);
  EXPECT_EQ(c.op_type.at("Gemm").per_channel_quantization, true);
  EXPECT_EQ(c.op_type.at("Gemm").params.at("weight").is_symmetric, false);
}

TEST(QuantSimConfigTest, RejectsUnknownKeysWithTheirPath) {
  json j = minimal();
  j["defaults"]["ops"]["is_output_quantised"] = "True";
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_json(j, "my.json"), ConfigError,
                        {"my.json", "defaults.ops.is_output_quantised", "unknown key"});
  j = minimal();
  j["op_type"]["Softmax"] = {{"bitwidth", 8}};
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_json(j), ConfigError, {"op_type.Softmax.bitwidth", "unknown key"});
  j = minimal();
  j["extra"] = json::object();
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_json(j), ConfigError, {"'extra'", "unknown key"});
}

TEST(QuantSimConfigTest, RejectsWrongTypes) {
  json j = minimal();
  j["defaults"]["params"]["is_quantized"] = true;  // a JSON bool, not AIMET's "True"
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_json(j), ConfigError, {"defaults.params.is_quantized", "\"True\""});
  j = minimal();
  j["model_input"]["is_input_quantized"] = "yes";
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_json(j), ConfigError, {"model_input.is_input_quantized", "yes"});
  j = minimal();
  j["supergroups"] = json::array({{{"op_list", {"Gemm"}}}});
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_json(j), ConfigError, {"supergroups.0.op_list", "at least 2"});
  j = minimal();
  j["params"] = json::array();
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_json(j), ConfigError, {"'params'", "expected an object"});
  j = minimal();
  j.erase("supergroups");
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_json(j), ConfigError, {"'supergroups'", "missing"});
}

TEST(QuantSimConfigTest, MissingFileIsIoError) {
  QSIM_EXPECT_THROW_MSG(QuantSimConfig::from_file("/nonexistent/quantsim.json"), IoError, {"/nonexistent/quantsim.json"});
}

TEST(SimOptionsTest, ParsesSchemesAndValidates) {
  EXPECT_EQ(parse_quant_scheme("tf_enhanced_range_learning"), QuantScheme::tf_enhanced_range_learning);
  QSIM_EXPECT_THROW_MSG(parse_quant_scheme("tf_enhance"), ConfigError, {"tf_enhance"});
  EXPECT_EQ(parse_mask_add_override("aimet_static_16bit_clamp"), MaskAddOverride::aimet_static_16bit_clamp);
  EXPECT_EQ(SimOptions().mask_add_override(), MaskAddOverride::off);
  QSIM_EXPECT_THROW_MSG(SimOptions().param_bitwidth(1).validate(), ConfigError, {"param_bitwidth", "[2, 32]", "1"});
  EXPECT_NO_THROW(SimOptions().param_bitwidth(2).validate()) << "weights below AIMET's 4 bits (AdaRound)";
  QSIM_EXPECT_THROW_MSG(SimOptions().output_bitwidth(3).validate(), ConfigError, {"output_bitwidth", "[4, 32]"});
  QSIM_EXPECT_THROW_MSG(SimOptions().percentile(0.0).validate(), ConfigError, {"percentile"});
  QSIM_EXPECT_THROW_MSG(SimOptions()
                            .scheme(QuantScheme::tf_range_learning)
                            .mask_add_override(MaskAddOverride::aimet_static_16bit_clamp)
                            .validate(),
                        ConfigError, {"aimet_static_16bit_clamp", "tf_range_learning"});
}

}  // namespace
}  // namespace qsim::sim
