#include "deploy/onnx_graph.hpp"

#include <cstring>

#include "detail/check.hpp"

namespace qsim::deploy::detail {
namespace {

void set_attribute(onnx::NodeProto& node, const Attribute& a) {
  onnx::AttributeProto* out = node.add_attribute();
  out->set_name(a.name);
  if (const auto* i = std::get_if<int64_t>(&a.value)) {
    out->set_type(onnx::AttributeProto::INT);
    out->set_i(*i);
  } else if (const auto* f = std::get_if<float>(&a.value)) {
    out->set_type(onnx::AttributeProto::FLOAT);
    out->set_f(*f);
  } else if (const auto* s = std::get_if<std::string>(&a.value)) {
    out->set_type(onnx::AttributeProto::STRING);
    out->set_s(*s);
  } else {
    out->set_type(onnx::AttributeProto::INTS);
    for (const int64_t v : std::get<std::vector<int64_t>>(a.value)) out->add_ints(v);
  }
}

void set_dims(onnx::ValueInfoProto& info, int32_t elem_type, const std::vector<Dim>& dims) {
  onnx::TypeProto_Tensor* type = info.mutable_type()->mutable_tensor_type();
  type->set_elem_type(elem_type);
  onnx::TensorShapeProto* shape = type->mutable_shape();
  for (const Dim& d : dims) {
    onnx::TensorShapeProto_Dimension* dim = shape->add_dim();
    if (const auto* size = std::get_if<int64_t>(&d)) {
      dim->set_dim_value(*size);
    } else if (!std::get<std::string>(d).empty()) {
      dim->set_dim_param(std::get<std::string>(d));
    }  // an empty name: a dimension of unknown size
  }
}

template <typename T>
std::string pack(const at::Tensor& codes) {
  const at::Tensor values = codes.contiguous();
  const int64_t* in = values.data_ptr<int64_t>();
  std::string bytes(static_cast<std::size_t>(values.numel()) * sizeof(T), '\0');
  for (int64_t i = 0; i < values.numel(); ++i) {
    const auto v = static_cast<T>(in[i]);
    std::memcpy(bytes.data() + static_cast<std::size_t>(i) * sizeof(T), &v, sizeof(T));
  }
  return bytes;
}

onnx::TensorProto& new_initializer(onnx::GraphProto& graph, const std::string& name, int32_t elem_type,
                                   at::IntArrayRef sizes) {
  onnx::TensorProto* t = graph.add_initializer();
  t->set_name(name);
  t->set_data_type(elem_type);
  for (const int64_t d : sizes) t->add_dims(d);
  return *t;
}

}  // namespace

int32_t onnx_type(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return onnx::TensorProto::FLOAT;
    case at::kLong: return onnx::TensorProto::INT64;
    case at::kInt: return onnx::TensorProto::INT32;
    case at::kShort: return onnx::TensorProto::INT16;
    case at::kChar: return onnx::TensorProto::INT8;
    case at::kByte: return onnx::TensorProto::UINT8;
    case at::kBool: return onnx::TensorProto::BOOL;
    default: break;
  }
  QSIM_CHECK(false, ConfigError, "onnx export: no ONNX tensor type for dtype {}", c10::toString(dtype));
}

void GraphBuilder::define(const std::string& name, int rank) {
  QSIM_CHECK(rank_.emplace(name, rank).second, ConfigError,
             "onnx export: tensor '{}' is defined twice (two blocks map to one ONNX name)", name);
}

int GraphBuilder::rank(const std::string& name) const {
  const auto it = rank_.find(name);
  return it == rank_.end() ? -1 : it->second;
}

std::string GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                               const std::string& output, int rank, const std::vector<Attribute>& attributes,
                               const std::string& domain) {
  define(output, rank);
  onnx::NodeProto* n = graph_.add_node();
  n->set_op_type(op);
  n->set_name(output);
  if (!domain.empty()) n->set_domain(domain);
  for (const std::string& in : inputs) n->add_input(in);
  n->add_output(output);
  for (const Attribute& a : attributes) set_attribute(*n, a);
  return output;
}

void GraphBuilder::nodes(const std::string& op, const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs, int rank, const std::vector<Attribute>& attributes) {
  for (const std::string& out : outputs) define(out, rank);
  onnx::NodeProto* n = graph_.add_node();
  n->set_op_type(op);
  n->set_name(outputs.front());
  for (const std::string& in : inputs) n->add_input(in);
  for (const std::string& out : outputs) n->add_output(out);
  for (const Attribute& a : attributes) set_attribute(*n, a);
}

std::string GraphBuilder::initializer(const std::string& name, const at::Tensor& value) {
  const at::Tensor v = value.detach().to(at::kCPU).contiguous();
  define(name, static_cast<int>(v.dim()));
  onnx::TensorProto& t = new_initializer(graph_, name, onnx_type(v.scalar_type()), v.sizes());
  t.set_raw_data(v.data_ptr(), static_cast<std::size_t>(v.numel()) * v.element_size());
  return name;
}

std::string GraphBuilder::codes(const std::string& name, const at::Tensor& codes, int32_t elem_type) {
  const at::Tensor v = codes.to(at::kCPU, at::kLong);
  define(name, static_cast<int>(v.dim()));
  onnx::TensorProto& t = new_initializer(graph_, name, elem_type, v.sizes());
  switch (elem_type) {
    case onnx::TensorProto::UINT8: t.set_raw_data(pack<uint8_t>(v)); break;
    case onnx::TensorProto::INT8: t.set_raw_data(pack<int8_t>(v)); break;
    case onnx::TensorProto::UINT16: t.set_raw_data(pack<uint16_t>(v)); break;
    case onnx::TensorProto::INT16: t.set_raw_data(pack<int16_t>(v)); break;
    case onnx::TensorProto::INT32: t.set_raw_data(pack<int32_t>(v)); break;
    default: QSIM_CHECK(false, ConfigError, "onnx export: '{}': codes of ONNX type {}", name, elem_type);
  }
  return name;
}

std::string GraphBuilder::scalar(const std::string& name, float value) {
  return initializer(name, at::scalar_tensor(value, at::kFloat));
}

std::string GraphBuilder::ints(const std::string& name, const std::vector<int64_t>& values) {
  return initializer(name, at::tensor(values, at::kLong));
}

void GraphBuilder::input(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims) {
  define(name, static_cast<int>(dims.size()));
  set_dims(*graph_.add_input(), elem_type, dims);
  graph_.mutable_input()->rbegin()->set_name(name);
}

void GraphBuilder::output(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims) {
  QSIM_CHECK(defined(name), ConfigError, "onnx export: graph output '{}' is not computed by any node", name);
  onnx::ValueInfoProto* info = graph_.add_output();
  info->set_name(name);
  set_dims(*info, elem_type, dims);
}

void GraphBuilder::output(const std::string& name, int32_t elem_type) {
  const int r = rank(name);
  QSIM_CHECK(r >= 0, ConfigError, "onnx export: graph output '{}' has no known rank", name);
  output(name, elem_type, std::vector<Dim>(static_cast<std::size_t>(r), std::string()));
}

}  // namespace qsim::deploy::detail
