// ONNX export (qsim/deploy/onnx_export.hpp): the three files, their names, what
// the encodings file holds, ONNX's own checker on every written model, options,
// and the errors for what cannot be exported. Runtime parity: onnx_runtime_test.cpp.
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <onnx/checker.h>

#include "deploy_fixtures.hpp"
#include "qsim/error.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/nn/tanh.hpp"
#include "support/expect_error.hpp"
#include "support/scratch_dir.hpp"

namespace qsim::deploy {
namespace {

using models::bert::AttentionMask;
using test::ScratchDir;
namespace fs = std::filesystem;

// Every name a node writes or an initializer or input holds.
std::set<std::string> tensor_names(const onnx::GraphProto& g) {
  std::set<std::string> out;
  for (const auto& n : g.node())
    for (const auto& o : n.output()) out.insert(o);
  for (const auto& i : g.initializer()) out.insert(i.name());
  for (const auto& i : g.input()) out.insert(i.name());
  return out;
}

std::multiset<std::string> op_types(const onnx::GraphProto& g) {
  std::multiset<std::string> out;
  for (const auto& n : g.node()) out.insert(n.op_type());
  return out;
}

TEST(OnnxExportTest, WritesTheThreeFilesEachPassingOnnxsChecker) {
  test::Simulated s = test::simulate("sharp", "seqcls2", AttentionMask::zoo());
  const ScratchDir dir("onnx_export");
  const OnnxExport out = export_onnx(*s.sim, dir.file("nested/out"), "bert_tiny");
  EXPECT_EQ(out.onnx, dir.file("nested/out") + "/bert_tiny.onnx");
  EXPECT_EQ(out.encodings, dir.file("nested/out") + "/bert_tiny.encodings");
  EXPECT_EQ(out.qdq_onnx, dir.file("nested/out") + "/bert_tiny_qdq.onnx");
  for (const std::string& path : {out.onnx, out.qdq_onnx}) {
    SCOPED_TRACE(path);
    EXPECT_NO_THROW(onnx::checker::check_model(path));
    const onnx::ModelProto m = test::read_model(path);
    ASSERT_EQ(m.graph().input_size(), 3);
    EXPECT_EQ(m.graph().input(0).name(), "input_ids");
    EXPECT_EQ(m.graph().input(1).name(), "attention_mask");
    EXPECT_EQ(m.graph().input(2).name(), "token_type_ids");
    for (const auto& in : m.graph().input()) {
      EXPECT_EQ(in.type().tensor_type().elem_type(), onnx::TensorProto::INT64);
      EXPECT_EQ(in.type().tensor_type().shape().dim(0).dim_param(), "batch");
      EXPECT_EQ(in.type().tensor_type().shape().dim(1).dim_param(), "sequence");
    }
    ASSERT_EQ(m.graph().output_size(), 1);
    EXPECT_EQ(m.graph().output(0).name(), "logits");
    EXPECT_EQ(m.opset_import(0).version(), 17);
  }
  for (const auto& entry : fs::directory_iterator(dir.file("nested/out")))
    EXPECT_EQ(entry.path().extension() == ".partial", false) << entry.path();
  EXPECT_EQ(out.outputs, std::vector<std::string>{"logits"});
}

TEST(OnnxExportTest, FloatGraphKeepsStateDictNamesAndTheLayersOps) {
  test::Simulated s = test::simulate("std002", "seqcls2", AttentionMask::zoo());
  const ScratchDir dir("onnx_names");
  const onnx::ModelProto m = test::read_model(export_onnx(*s.sim, dir.str(), "m").onnx);
  std::set<std::string> initializers;
  for (const auto& i : m.graph().initializer()) initializers.insert(i.name());
  for (const auto& item : s.model->named_parameters()) {
    EXPECT_EQ(initializers.count(item.key()), 1u) << item.key() << " is not an initializer of the float graph";
  }
  const auto ops = op_types(m.graph());
  const auto layers = static_cast<std::size_t>(s.model->config.num_hidden_layers);
  EXPECT_EQ(ops.count("LayerNormalization"), 2 * layers + 1);
  EXPECT_EQ(ops.count("Softmax"), layers);
  EXPECT_EQ(ops.count("Erf"), layers) << "exact GELU";
  EXPECT_EQ(ops.count("Gemm"), 0u) << "Linear is MatMul + Add";
  EXPECT_EQ(ops.count("MatMul"), 6 * layers + 2 + 2 * layers) << "Q, K, V, attention output, FFN ×2, pooler, "
                                                                  "classifier and the two attention products";
  EXPECT_EQ(ops.count("Tanh"), 1u);
  EXPECT_EQ(ops.count("QuantizeLinear"), 0u);
  EXPECT_EQ(ops.count("LessOrEqual"), 1u) << "the zoo mask, built once";
}

TEST(OnnxExportTest, EveryActiveQuantizerActsOnANamedTensorOfTheFloatGraph) {
  test::Simulated s = test::simulate("sharp", "qa", AttentionMask::hf());
  const ScratchDir dir("onnx_map");
  const OnnxExport out = export_onnx(*s.sim, dir.str(), "m");
  const std::set<std::string> names = tensor_names(test::read_model(out.onnx).graph());
  ASSERT_EQ(out.quantizers.size(), s.sim->active_quantizers().size()) << "one entry per active quantizer";
  std::set<std::string> tensors;
  for (const ExportedQuantizer& q : out.quantizers) {
    EXPECT_EQ(names.count(q.tensor), 1u) << q.quantizer << " → " << q.tensor;
    EXPECT_TRUE(tensors.insert(q.tensor).second) << "two quantizers on " << q.tensor;
  }
  // Spot checks of the naming rule (docs/design.md, "Deploying").
  std::map<std::string, std::string> by_quantizer;
  for (const ExportedQuantizer& q : out.quantizers) by_quantizer[q.quantizer] = q.tensor;
  const std::string p = "bert.encoder.layer.0.";
  EXPECT_EQ(by_quantizer.at(p + "attention.self.query.output_quantizer"), p + "attention.self.query.output");
  EXPECT_EQ(by_quantizer.at(p + "attention.self.query.weight_quantizer"), p + "attention.self.query.weight");
  EXPECT_EQ(by_quantizer.at(p + "attention.self.mask_add.input_quantizers.0"), p + "attention.self.scores_scaled");
  EXPECT_EQ(by_quantizer.at(p + "attention.self.dropout.output_quantizer"), p + "attention.self.dropout.output");
  EXPECT_EQ(by_quantizer.at(p + "output.LayerNorm.weight_quantizer"), p + "output.LayerNorm.weight");
  EXPECT_EQ(by_quantizer.at("qa_outputs.output_quantizer"), "qa_outputs.output");
  EXPECT_EQ(onnx_tensor_names(*s.sim).size(), out.quantizers.size());
}

TEST(OnnxExportTest, EncodingsFileHoldsTheSimulationsEncodingsByOnnxName) {
  test::Simulated s = test::simulate("sharp", "seqcls2", AttentionMask::zoo());
  const ScratchDir dir("onnx_encodings");
  const OnnxExport out = export_onnx(*s.sim, dir.str(), "m");
  const nlohmann::json file = io::read_json_file(out.encodings);
  EXPECT_EQ(file.at("version"), "0.5.1");
  EXPECT_TRUE(file.at("excluded_layers").empty());
  const nlohmann::json torch_keyed = s.sim->encodings_json();
  std::size_t params = 0, activations = 0;
  for (const ExportedQuantizer& q : out.quantizers) {
    SCOPED_TRACE(q.quantizer);
    const sim::QuantizerSlot& slot = s.sim->slot(q.quantizer);
    const nlohmann::json& list = file.at(q.parameter ? "param_encodings" : "activation_encodings").at(q.tensor);
    ASSERT_EQ(list.size(), 1u);
    // Static encodings: the very entries QuantSim::encodings_json writes.
    const nlohmann::json& expected =
        q.parameter ? torch_keyed.at("param_encodings").at(slot.tensor_name()).at(0)
                    : torch_keyed.at("activation_encodings").at(slot.block).at(std::string(sim::to_string(slot.kind)))
                          .at(std::to_string(slot.index));
    EXPECT_EQ(list.at(0), expected);
    ++(q.parameter ? params : activations);
  }
  EXPECT_EQ(file.at("param_encodings").size(), params);
  EXPECT_EQ(file.at("activation_encodings").size(), activations);
}

TEST(OnnxExportTest, LearnedQuantizersExportTheGridTheirForwardUses) {
  test::Simulated s = test::simulate("sharp", "seqcls2", AttentionMask::zoo(),
                                     sim::SimOptions().scheme(sim::QuantScheme::tf_range_learning));
  const ScratchDir dir("onnx_learned");
  const std::string weight = "bert.encoder.layer.0.attention.self.query.weight";
  const auto entry = [&](LearnedEncodings mode) {
    const OnnxExport out = export_onnx(*s.sim, dir.str(), "m", OnnxExportOptions().learned_encodings(mode));
    return io::read_json_file(out.encodings).at("param_encodings").at(weight).at(0);
  };
  const quant::QuantizerNode node = s.sim->quantizer(weight + "_quantizer");
  const float abs_max = std::max(std::fabs(node->encoding_min.item<float>()), std::fabs(node->encoding_max.item<float>()));
  const nlohmann::json forward = entry(LearnedEncodings::forward_grid);
  EXPECT_FLOAT_EQ(forward.at("scale").get<float>(), abs_max / 127.0f) << "§5.3: max(|min|, |max|) / 127";
  EXPECT_EQ(forward.at("offset"), -128);
  const nlohmann::json aimet = entry(LearnedEncodings::aimet);
  EXPECT_FLOAT_EQ(aimet.at("min").get<float>(), node->encoding_min.item<float>());
  EXPECT_FLOAT_EQ(aimet.at("max").get<float>(), node->encoding_max.item<float>());
  EXPECT_NE(aimet.at("scale"), forward.at("scale")) << "AIMET reports (max − min)/255, not the forward's Δ";
}

TEST(OnnxExportTest, StaticShapesFixTheInputDimensions) {
  test::Simulated s = test::simulate("std002", "qa", AttentionMask::hf());
  const ScratchDir dir("onnx_static");
  const OnnxExport out =
      export_onnx(*s.sim, dir.str(), "m", OnnxExportOptions().static_batch(3).static_sequence(16).write_qdq(false));
  EXPECT_TRUE(out.qdq_onnx.empty());
  EXPECT_FALSE(fs::exists(dir.file("m_qdq.onnx")));
  const onnx::ModelProto m = test::read_model(out.onnx);
  for (const auto& in : m.graph().input()) {
    EXPECT_EQ(in.type().tensor_type().shape().dim(0).dim_value(), 3);
    EXPECT_EQ(in.type().tensor_type().shape().dim(1).dim_value(), 16);
  }
  EXPECT_EQ(m.graph().output(0).name(), "start_logits");
  EXPECT_EQ(m.graph().output(1).name(), "end_logits");
  EXPECT_EQ(op_types(m.graph()).count("Range"), 0u) << "position ids are a constant";
  QSIM_EXPECT_THROW_MSG(export_onnx(*s.sim, dir.str(), "m", OnnxExportOptions().static_sequence(1000)), ConfigError,
                        {"static sequence length 1000", "max_position_embeddings"});
}

TEST(OnnxExportTest, QdqModelQuantizesEveryActiveQuantizersTensor) {
  test::Simulated s = test::simulate("sharp", "seqcls3", AttentionMask::zoo());
  const ScratchDir dir("onnx_qdq");
  const OnnxExport out = export_onnx(*s.sim, dir.str(), "m");
  const onnx::ModelProto m = test::read_model(out.qdq_onnx);
  std::size_t params = 0, activations = 0;
  for (const ExportedQuantizer& q : out.quantizers) ++(q.parameter ? params : activations);
  const auto ops = op_types(m.graph());
  EXPECT_EQ(ops.count("QuantizeLinear"), activations);
  EXPECT_EQ(ops.count("DequantizeLinear"), activations + params);
  std::map<std::string, int32_t> initializer_type;
  for (const auto& i : m.graph().initializer()) initializer_type[i.name()] = i.data_type();
  EXPECT_EQ(initializer_type.at("bert.encoder.layer.0.attention.self.query.weight_quantized"), onnx::TensorProto::INT8)
      << "8-bit symmetric weights are int8 with zero point 0";
  EXPECT_EQ(initializer_type.at("bert.encoder.layer.0.attention.self.query.bias"), onnx::TensorProto::FLOAT)
      << "biases stay float";
  EXPECT_EQ(initializer_type.count("bert.encoder.layer.0.attention.self.query.weight"), 0u);
  EXPECT_EQ(initializer_type.at("bert.encoder.layer.0.attention.self.query.output_zero_point"),
            onnx::TensorProto::UINT8);
}

TEST(OnnxExportTest, LowerAndHigherBitwidthsUseClampsAndSixteenBitTypes) {
  sim::SimOptions options = sim::SimOptions().output_bitwidth(4).per_channel(true);
  options.bitwidth_overrides({{"output\\.add\\.output_quantizer", 16}});
  test::Simulated s = test::simulate("sharp", "seqcls2", AttentionMask::zoo(), options);
  const ScratchDir dir("onnx_bits");
  const onnx::ModelProto m = test::read_model(export_onnx(*s.sim, dir.str(), "m").qdq_onnx);
  EXPECT_NO_THROW(onnx::checker::check_model(m));
  std::size_t ms_nodes = 0, clips = 0;
  for (const auto& n : m.graph().node()) {
    if (n.domain() == "com.microsoft") ++ms_nodes;
    if (n.op_type() == "Clip") ++clips;
    if (n.output(0) == "bert.encoder.layer.0.attention.self.query.weight_dequantized") {
      ASSERT_EQ(n.attribute_size(), 1);
      EXPECT_EQ(n.attribute(0).name(), "axis");
      EXPECT_EQ(n.attribute(0).i(), 0) << "per-channel weights along the output channels";
    }
  }
  EXPECT_EQ(ms_nodes, 2u * 2 * static_cast<std::size_t>(s.model->config.num_hidden_layers))
      << "16-bit Q and DQ of both residual adds of each layer, in ORT's com.microsoft domain";
  EXPECT_GT(clips, 0u) << "4-bit activations are clamped to their grid before the 8-bit QuantizeLinear";
}

TEST(OnnxExportTest, ExportsAModelThatIsNotSimulated) {
  models::bert::BertForTask model = test::load_tiny("std002", "regression", AttentionMask::hf());
  const ScratchDir dir("onnx_plain");
  export_float_onnx(model, dir.file("plain.onnx"));
  EXPECT_NO_THROW(onnx::checker::check_model(dir.file("plain.onnx")));
  models::bert::BertConfig config = model->config;
  config.head = models::bert::BertHead::none;
  models::bert::BertForTask encoder_only(config);
  export_float_onnx(encoder_only, dir.file("encoder.onnx"));
  const onnx::ModelProto m = test::read_model(dir.file("encoder.onnx"));
  ASSERT_EQ(m.graph().output_size(), 2);
  EXPECT_EQ(m.graph().output(0).name(), "last_hidden_state");
  EXPECT_EQ(m.graph().output(1).name(), "pooler_output");
}

TEST(OnnxExportTest, BadInputIsAOneLineErrorAndNothingIsWritten) {
  const ScratchDir dir("onnx_errors");
  {
    models::bert::BertForTask model = test::load_tiny("sharp", "seqcls2");
    sim::QuantSim sim(model, sim::QuantSimConfig::aimet_default());
    QSIM_EXPECT_THROW_MSG(export_onnx(sim, dir.file("a"), "m"), ConfigError, {"no encodings", "compute_encodings"});
  }
  test::Simulated s = test::simulate("sharp", "seqcls2", AttentionMask::zoo());
  {
    SCOPED_TRACE("an active quantizer without an encoding");
    const std::string name = "bert.encoder.layer.0.attention.self.matmul_1.input_quantizers.0";
    s.sim->set_enabled(name, true);
    QSIM_EXPECT_THROW_MSG(export_onnx(*s.sim, dir.file("b"), "m"), ConfigError, {name.c_str(), "no encoding"});
    s.sim->set_enabled(name, false);
  }
  {
    SCOPED_TRACE("an unwritable folder");
    std::ofstream(dir.file("file")) << "not a folder";
    QSIM_EXPECT_THROW_MSG(export_onnx(*s.sim, dir.file("file"), "m"), IoError, {"file"});
  }
  {
    SCOPED_TRACE("a bad prefix");
    QSIM_EXPECT_THROW_MSG(export_onnx(*s.sim, dir.file("c"), "a/b"), ConfigError, {"prefix 'a/b'"});
  }
  for (const char* sub : {"a", "b", "c"}) EXPECT_FALSE(fs::exists(dir.file(sub))) << sub;
}

TEST(OnnxExportTest, ABlockTheExporterDoesNotKnowIsNamed) {
  models::bert::BertForTask model = test::load_tiny("sharp", "seqcls2");
  model->register_module("extra", nn::Tanh());  // never run by BertForTask's forward
  sim::QuantSim sim(model, sim::QuantSimConfig::aimet_default());
  const test::Batch b = test::load_batch("sharp");
  sim.compute_encodings([&](torch::nn::Module&) { model(b.input_ids, b.token_type_ids, b.attention_mask); });
  quant::Encoding e = quant::make_encoding(-1.0, 1.0, 8, quant::Symmetry::asymmetric);
  sim.set_encodings("extra.output_quantizer", {e});
  sim.set_enabled("extra.output_quantizer", true);
  const ScratchDir dir("onnx_unknown");
  QSIM_EXPECT_THROW_MSG(export_onnx(sim, dir.str(), "m"), ConfigError,
                        {"extra.output_quantizer", "does not know"});
}

TEST(OnnxExportTest, ActivationsWiderThanSixteenBitsHaveNoQdqType) {
  sim::SimOptions options;
  options.bitwidth_overrides({{"classifier\\.output_quantizer", 32}});
  test::Simulated s = test::simulate("std002", "seqcls2", AttentionMask::zoo(), options);
  const ScratchDir dir("onnx_wide");
  QSIM_EXPECT_THROW_MSG(export_onnx(*s.sim, dir.str(), "m"), ConfigError,
                        {"classifier.output_quantizer", "bitwidth 32"});
  EXPECT_NO_THROW(export_onnx(*s.sim, dir.str(), "m", OnnxExportOptions().write_qdq(false)))
      << "the float graph and encodings can still be written";
}

}  // namespace
}  // namespace qsim::deploy
