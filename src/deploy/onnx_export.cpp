#include "qsim/deploy/onnx_export.hpp"

#include <filesystem>
#include <system_error>

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include "deploy/bert_graph.hpp"
#include "deploy/onnx_graph.hpp"
#include "deploy/quantizer_sites.hpp"
#include "deploy/tensor_encodings.hpp"
#include "detail/check.hpp"
#include "qsim/config.hpp"
#include "qsim/io/atomic_file.hpp"
#include "qsim/log.hpp"

namespace qsim::deploy {
namespace {

using detail::GraphKind;

constexpr int64_t kOpset = 17;  // native LayerNormalization; 16-bit QDQ in com.microsoft

struct BuiltModel {
  onnx::ModelProto proto;
  std::vector<ExportedQuantizer> quantizers;
  std::vector<std::string> outputs;
};

models::bert::BertForTask bert_of(const sim::QuantSim& sim) {
  auto impl = std::dynamic_pointer_cast<models::bert::BertForTaskImpl>(sim.model());
  QSIM_CHECK(impl != nullptr, ConfigError,
             "onnx export: the simulated model is not a qsim::models::bert::BertForTask, the model the exporter knows");
  return models::bert::BertForTask(impl);
}

void check_options(const models::bert::BertForTask& model, const OnnxExportOptions& options) {
  QSIM_CHECK(options.static_batch() >= 0 && options.static_sequence() >= 0, ConfigError,
             "onnx export: static shape [{}, {}]: sizes must be positive (0 = dynamic)", options.static_batch(),
             options.static_sequence());
  QSIM_CHECK(options.static_sequence() <= model->config.max_position_embeddings, ConfigError,
             "onnx export: static sequence length {} exceeds max_position_embeddings {}", options.static_sequence(),
             model->config.max_position_embeddings);
}

bool uses_domain(const onnx::GraphProto& graph, const std::string& domain) {
  for (const onnx::NodeProto& n : graph.node()) {
    if (n.domain() == domain) return true;
  }
  return false;
}

BuiltModel build(const models::bert::BertForTask& model, const sim::QuantSim* sim, GraphKind kind,
                 const OnnxExportOptions& options) {
  check_options(model, options);
  BuiltModel m;
  m.proto.set_ir_version(onnx::IR_VERSION);
  m.proto.set_producer_name("qsim");
  m.proto.set_producer_version(QSIM_VERSION_STRING);
  m.proto.set_doc_string(kind == GraphKind::qdq ? "BERT with the simulation's quantizers as QuantizeLinear/DequantizeLinear"
                                                : "BERT, float graph (encodings in <prefix>.encodings)");
  onnx::GraphProto& graph = *m.proto.mutable_graph();
  graph.set_name("bert");
  detail::GraphBuilder g(graph);
  detail::QuantizerSites sites(g, sim, kind, options.expose_quantized_tensors());
  m.outputs = detail::write_bert_graph(model, g, sites, options);
  sites.check_all_reached();
  sites.add_exposed_outputs();
  m.quantizers = sites.quantizers();
  onnx::OperatorSetIdProto* opset = m.proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  if (uses_domain(graph, detail::kMicrosoftDomain)) {
    onnx::OperatorSetIdProto* ms = m.proto.add_opset_import();
    ms->set_domain(detail::kMicrosoftDomain);
    ms->set_version(1);
  }
  return m;
}

// ONNX's own checker and strict shape inference; a failure is a bug in the
// writer, reported with ONNX's message.
void validate(onnx::ModelProto& proto, const std::string& what) {
  try {
    onnx::checker::check_model(proto);
    onnx::ShapeInferenceOptions strict{/*check_type=*/true, /*error_mode=*/1, /*enable_data_propagation=*/false};
    onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), strict);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("onnx export: {} fails ONNX's checks: {}", what, e.what()));
  }
}

std::string serialize(const onnx::ModelProto& proto, const std::string& what) {
  std::string bytes;
  QSIM_CHECK(proto.SerializeToString(&bytes), ConfigError,
             "onnx export: {} cannot be serialized (protobuf's limit is 2 GiB per model)", what);
  return bytes;
}

void make_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  QSIM_CHECK(!ec && std::filesystem::is_directory(dir), IoError, "onnx export: cannot create directory '{}': {}", dir,
             ec ? ec.message() : "a file of that name exists");
}

void log_written(const std::string& path, const onnx::ModelProto& proto, std::size_t bytes) {
  logger()->info("onnx export: {} ({} nodes, {} initializers, {:.1f} MB)", path, proto.graph().node_size(),
                 proto.graph().initializer_size(), static_cast<double>(bytes) / 1e6);
}

}  // namespace

OnnxExport export_onnx(const sim::QuantSim& sim, const std::string& dir, const std::string& prefix,
                       const OnnxExportOptions& options) {
  QSIM_CHECK(sim.calibrated(), ConfigError,
             "onnx export: the simulation has no encodings yet: call compute_encodings or load_encodings first");
  QSIM_CHECK(!prefix.empty() && prefix.find('/') == std::string::npos, ConfigError,
             "onnx export: prefix '{}' must be a non-empty file name", prefix);
  const models::bert::BertForTask model = bert_of(sim);
  torch::NoGradGuard no_grad;
  // Everything is built, checked and serialized before the first file is written.
  BuiltModel float_model = build(model, &sim, GraphKind::float_graph, options);
  validate(float_model.proto, prefix + ".onnx");
  const std::string float_bytes = serialize(float_model.proto, prefix + ".onnx");
  const std::string encodings =
      detail::tensor_encodings_json(sim, float_model.quantizers, options.learned_encodings()).dump(4) + '\n';
  std::string qdq_bytes;
  BuiltModel qdq_model;
  if (options.write_qdq()) {
    qdq_model = build(model, &sim, GraphKind::qdq, options);
    validate(qdq_model.proto, prefix + "_qdq.onnx");
    qdq_bytes = serialize(qdq_model.proto, prefix + "_qdq.onnx");
  }
  make_directory(dir);
  OnnxExport out;
  out.onnx = dir + "/" + prefix + ".onnx";
  out.encodings = dir + "/" + prefix + ".encodings";
  io::write_file_atomically(out.onnx, float_bytes);
  log_written(out.onnx, float_model.proto, float_bytes.size());
  io::write_file_atomically(out.encodings, encodings);
  if (options.write_qdq()) {
    out.qdq_onnx = dir + "/" + prefix + "_qdq.onnx";
    io::write_file_atomically(out.qdq_onnx, qdq_bytes);
    log_written(out.qdq_onnx, qdq_model.proto, qdq_bytes.size());
  }
  out.quantizers = std::move(float_model.quantizers);
  out.outputs = std::move(float_model.outputs);
  return out;
}

void export_float_onnx(const models::bert::BertForTask& model, const std::string& path,
                       const OnnxExportOptions& options) {
  torch::NoGradGuard no_grad;
  BuiltModel m = build(model, nullptr, GraphKind::float_graph, options);
  validate(m.proto, path);
  const std::string bytes = serialize(m.proto, path);
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) make_directory(parent.string());
  io::write_file_atomically(path, bytes);
  log_written(path, m.proto, bytes.size());
}

std::vector<ExportedQuantizer> onnx_tensor_names(const sim::QuantSim& sim) {
  QSIM_CHECK(sim.calibrated(), ConfigError,
             "onnx export: the simulation has no encodings yet: call compute_encodings or load_encodings first");
  torch::NoGradGuard no_grad;
  return build(bert_of(sim), &sim, GraphKind::float_graph, {}).quantizers;
}

}  // namespace qsim::deploy
