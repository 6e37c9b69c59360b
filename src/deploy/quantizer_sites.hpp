#pragma once

// QuantizerSites: what the graph writer does where the simulation has a quantizer.
// The writer walks the model and calls it at every quantizer slot with the ONNX
// tensor that slot acts on:
//  * float graph: the tensor is left alone and the pairing (slot → tensor) is kept
//    for <prefix>.encodings;
//  * QDQ graph: QuantizeLinear/DequantizeLinear are inserted (a float clamp first
//    where the integer type's saturation is not the grid's range) and consumers
//    read "t_dequantized"; quantized parameters are stored as their codes.
// Both graphs give a quantizer the same tensor name. A tensor carries at most one
// encoding: a second quantizer on the same value (a dropout's output, an input
// quantizer) acts on a copy of its own made by an Identity node.

#include <set>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "deploy/onnx_graph.hpp"
#include "qsim/deploy/onnx_export.hpp"
#include "qsim/sim/quant_sim.hpp"

namespace qsim::deploy::detail {

enum class GraphKind { float_graph, qdq };

class QuantizerSites {
 public:
  /// `sim` may be null: a model that is not simulated has no active quantizer.
  QuantizerSites(GraphBuilder& graph, const sim::QuantSim* sim, GraphKind kind, bool expose);

  /// The output quantizer of `block` on `tensor`; returns what its readers read.
  /// `copy_as`: the quantized value gets its own name (an Identity) even when
  /// `tensor` carries no encoding yet (dropout: "<dropout>.output").
  std::string output(const std::string& block, const std::string& tensor, const std::string& copy_as = "");
  /// Input quantizer `index` of `block` reading `tensor`. Unless `sole_reader`,
  /// the quantizer acts on a copy "<block>.input.<index>", since other readers of
  /// `tensor` must not see it quantized.
  std::string input(const std::string& block, std::size_t index, const std::string& tensor, bool sole_reader = false);
  /// Input `index` of `block` is an integer tensor: the simulation passes it through.
  void integer_input(const std::string& block, std::size_t index);
  /// Parameter `param` of `block` (state-dict name "<block>.<param>"), with its
  /// quantizer when that is active. Returns the tensor to read.
  std::string parameter(const std::string& block, const std::string& param, const at::Tensor& value);

  /// QDQ graph: whether `block` reads a per-axis (embedding-group) DequantizeLinear
  /// among `inputs` or writes through a per-axis quantizer. ORT 1.31 fuses DQ → Add →
  /// Q into QLinearAdd, which takes per-tensor scales only, and then fails to load
  /// the model: the writer uses Sum (the same single addition) for such an Add.
  bool per_axis_qdq(const std::string& block, const std::vector<std::string>& inputs) const;

  /// Every active quantizer met so far, in the order met.
  const std::vector<ExportedQuantizer>& quantizers() const { return quantizers_; }
  /// ConfigError naming the first active quantizer the writer never reached (a
  /// block the exporter does not know).
  void check_all_reached() const;
  /// The exposed tensors (float: quantized tensors; QDQ: also their codes) as graph outputs.
  void add_exposed_outputs() const;

 private:
  const sim::QuantizerSlot* active_slot(const std::string& name);
  std::string activation(const sim::QuantizerSlot& slot, const std::string& tensor, const std::string& copy_as);
  std::string quantize_dequantize(const sim::QuantizerSlot& slot, const std::string& tensor);

  GraphBuilder& graph_;
  const sim::QuantSim* sim_;
  GraphKind kind_;
  bool expose_;
  std::set<std::string> reached_;
  std::set<std::string> encoded_tensors_;
  std::set<std::string> per_axis_tensors_;  // QDQ: DequantizeLinear outputs with an axis
  std::vector<ExportedQuantizer> quantizers_;
  struct Exposed {
    std::string name;
    int32_t elem_type;
  };
  std::vector<Exposed> exposed_;
};

}  // namespace qsim::deploy::detail
