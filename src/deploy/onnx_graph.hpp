#pragma once

// GraphBuilder: a thin layer over ONNX's own GraphProto (libonnx) that the model
// writers use. It keeps what protobuf does not: every tensor name is defined once
// (a second definition is a bug in the writer, reported with the name), and the
// rank of every tensor the writer made, so that a tensor can become a graph output
// without running shape inference first.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <ATen/ATen.h>
#include <onnx/onnx_pb.h>

namespace qsim::deploy::detail {

/// A node attribute: name and an int, a float, a string or a list of ints.
struct Attribute {
  std::string name;
  std::variant<int64_t, float, std::string, std::vector<int64_t>> value;
};

/// One dimension of a graph input/output: a fixed size or a symbolic name.
using Dim = std::variant<int64_t, std::string>;

/// The domain of ONNX Runtime's contrib ops (16-bit QuantizeLinear/DequantizeLinear).
inline constexpr const char* kMicrosoftDomain = "com.microsoft";

class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto& graph) : graph_(graph) {}

  /// Adds `op` reading `inputs` and writing `output` (also the node's name);
  /// `rank` is the output's rank (-1 = unknown). Returns `output`.
  std::string node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
                   int rank, const std::vector<Attribute>& attributes = {}, const std::string& domain = "");
  /// Same with several outputs (Split).
  void nodes(const std::string& op, const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
            int rank, const std::vector<Attribute>& attributes = {});

  /// An initializer holding `value` (float32, int64, int32, int16, int8, uint8;
  /// copied, contiguous). Returns `name`.
  std::string initializer(const std::string& name, const at::Tensor& value);
  /// Scalar and 1-D constants as initializers.
  /// Integer codes (int64 `codes`, any shape) stored as `elem_type`: UINT8, INT8,
  /// UINT16, INT16 or INT32 (the caller has checked that they fit).
  std::string codes(const std::string& name, const at::Tensor& codes, int32_t elem_type);
  std::string scalar(const std::string& name, float value);
  std::string ints(const std::string& name, const std::vector<int64_t>& values);

  void input(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims);
  /// A graph output with the given dims, or (no dims) the tensor's rank of unknown dims.
  void output(const std::string& name, int32_t elem_type, const std::vector<Dim>& dims);
  void output(const std::string& name, int32_t elem_type);

  bool defined(const std::string& name) const { return rank_.count(name) != 0; }
  /// The rank recorded for `name`; -1 when unknown.
  int rank(const std::string& name) const;

 private:
  void define(const std::string& name, int rank);

  onnx::GraphProto& graph_;
  std::unordered_map<std::string, int> rank_;
};

/// ONNX's element type for a tensor dtype (float32, int64, int32, int16, int8, uint8,
/// bool); throws ConfigError for any other.
int32_t onnx_type(at::ScalarType dtype);

}  // namespace qsim::deploy::detail
