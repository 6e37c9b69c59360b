#include "deploy/quantizer_sites.hpp"

#include "deploy/quantizer_grid.hpp"
#include "detail/check.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/range_learning.hpp"

namespace qsim::deploy::detail {
namespace {

std::string domain_of(const CodeType& type) { return type.bits == 16 ? kMicrosoftDomain : ""; }

// One value per channel, shaped to broadcast along `axis` of a rank-`rank` tensor.
at::Tensor per_channel(const std::vector<float>& values, std::optional<int64_t> axis, int64_t rank) {
  at::Tensor t = at::tensor(values, at::kFloat);
  if (!axis) return t.reshape({});
  std::vector<int64_t> shape(static_cast<std::size_t>(rank), 1);
  shape[static_cast<std::size_t>(*axis < 0 ? *axis + rank : *axis)] = static_cast<int64_t>(values.size());
  return t.reshape(shape);
}

std::vector<float> scales(const QuantizerGrid& grid) {
  std::vector<float> out;
  for (const ChannelGrid& c : grid.channels) out.push_back(c.scale);
  return out;
}

// QuantizeLinear/DequantizeLinear's scale: a scalar, or 1-D with one per channel.
at::Tensor scale_tensor(const QuantizerGrid& grid) {
  const at::Tensor t = at::tensor(scales(grid), at::kFloat);
  return grid.axis ? t : t.reshape({});
}

at::Tensor zero_point_tensor(const QuantizerGrid& grid, const CodeType& type) {
  const at::Tensor t = at::tensor(zero_points(grid, type), at::kLong);
  return grid.axis ? t : t.reshape({});
}

// The parameter exactly as the simulation's forward quantizes it.
at::Tensor simulated_parameter(const sim::QuantizerSlot& slot, const at::Tensor& value, const QuantizerGrid& grid) {
  const quant::QuantizerNodeImpl& node = *slot.node;
  const at::Tensor w = value.detach().to(at::kCPU, at::kFloat).contiguous();
  const auto axis = node.options.channel_axis();
  if (!grid.learned) return quant::fake_quantize_static(w, node.encodings(), axis);
  const at::Tensor min = node.encoding_min.detach().to(at::kCPU).clone();
  const at::Tensor max = node.encoding_max.detach().to(at::kCPU).clone();
  quant::gate_learned_range_(min, max);
  const quant::LearnedGridParams params =
      quant::learned_grid_params(min, max, node.options.bitwidth(), node.options.symmetry());
  return quant::fake_quantize_learned(w, params, axis, node.options.scale_mode());
}

// Integer codes of a quantized parameter, stored as `type`: Δ·(code − zero point)
// must give back the simulated value bit for bit.
at::Tensor parameter_codes(const sim::QuantizerSlot& slot, const at::Tensor& simulated, const QuantizerGrid& grid,
                           const CodeType& type) {
  std::vector<float> offsets;
  for (const ChannelGrid& c : grid.channels) offsets.push_back(type.is_signed ? 0.0f : static_cast<float>(-c.offset));
  const at::Tensor scale = per_channel(scales(grid), grid.axis, simulated.dim());
  const at::Tensor levels = (simulated.to(at::kDouble) / scale.to(at::kDouble)).round();
  QSIM_CHECK(at::equal(levels.to(at::kFloat) * scale, simulated), ConfigError,
             "onnx export: quantized parameter of '{}' is not Δ times an integer (a grid ONNX cannot store)", slot.name);
  const at::Tensor codes = (levels + per_channel(offsets, grid.axis, simulated.dim()).to(at::kDouble)).to(at::kLong);
  const int64_t low = type.is_signed ? -(int64_t{1} << (type.bits - 1)) : 0;
  const int64_t high = type.is_signed ? (int64_t{1} << (type.bits - 1)) - 1 : (int64_t{1} << type.bits) - 1;
  QSIM_CHECK(codes.numel() == 0 || (codes.min().item<int64_t>() >= low && codes.max().item<int64_t>() <= high),
             ConfigError, "onnx export: codes of '{}' leave [{}, {}] (an encoding that is not grid-aligned)", slot.name,
             low, high);
  return codes;
}

}  // namespace

QuantizerSites::QuantizerSites(GraphBuilder& graph, const sim::QuantSim* sim, GraphKind kind, bool expose)
    : graph_(graph), sim_(sim), kind_(kind), expose_(expose) {}

const sim::QuantizerSlot* QuantizerSites::active_slot(const std::string& name) {
  if (sim_ == nullptr) return nullptr;
  const sim::QuantizerSlot& slot = sim_->slot(name);
  reached_.insert(name);
  if (!slot.active) return nullptr;
  QSIM_CHECK(slot.node->has_encoding() || slot.node->options.grid() == quant::Grid::learned_grid, ConfigError,
             "onnx export: active quantizer '{}' has no encoding", name);
  return &slot;
}

std::string QuantizerSites::output(const std::string& block, const std::string& tensor, const std::string& copy_as) {
  const sim::QuantizerSlot* slot = active_slot(block + ".output_quantizer");
  return slot != nullptr ? activation(*slot, tensor, copy_as) : tensor;
}

std::string QuantizerSites::input(const std::string& block, std::size_t index, const std::string& tensor,
                                  bool sole_reader) {
  const sim::QuantizerSlot* slot = active_slot(block + ".input_quantizers." + std::to_string(index));
  if (slot == nullptr) return tensor;
  const bool copy = !sole_reader || encoded_tensors_.count(tensor) != 0;
  return activation(*slot, tensor, copy ? block + ".input." + std::to_string(index) : "");
}

void QuantizerSites::integer_input(const std::string& block, std::size_t index) {
  if (sim_ != nullptr) reached_.insert(sim_->slot(block + ".input_quantizers." + std::to_string(index)).name);
}

std::string QuantizerSites::activation(const sim::QuantizerSlot& slot, const std::string& tensor,
                                       const std::string& copy_as) {
  std::string t = tensor;
  if (!copy_as.empty()) {
    t = graph_.node("Identity", {tensor}, copy_as, graph_.rank(tensor));
  } else {
    QSIM_CHECK(encoded_tensors_.count(t) == 0, ConfigError,
               "onnx export: quantizer '{}' acts on tensor '{}', which already has an encoding", slot.name, t);
  }
  encoded_tensors_.insert(t);
  quantizers_.push_back({slot.name, t, false});
  if (kind_ == GraphKind::float_graph) {
    if (expose_) exposed_.push_back({t, onnx::TensorProto::FLOAT});
    return t;
  }
  return quantize_dequantize(slot, t);
}

std::string QuantizerSites::quantize_dequantize(const sim::QuantizerSlot& slot, const std::string& tensor) {
  const QuantizerGrid grid = quantizer_grid(slot);
  const CodeType type = code_type(grid, slot.name, /*activation=*/true);
  const int rank = graph_.rank(tensor);
  std::vector<Attribute> axis;
  if (grid.axis) axis.push_back({"axis", *grid.axis < 0 ? *grid.axis + rank : *grid.axis});
  std::string x = tensor;
  if (type.needs_clip) {  // the grid is narrower than the type: clamp as the simulation does
    std::vector<float> low, high;
    for (const ChannelGrid& c : grid.channels) {
      low.push_back(c.clip_lo);
      high.push_back(c.clip_hi);
    }
    const std::string lo = graph_.initializer(tensor + "_clip_min", per_channel(low, grid.axis, rank));
    const std::string hi = graph_.initializer(tensor + "_clip_max", per_channel(high, grid.axis, rank));
    x = grid.axis ? graph_.node("Min", {graph_.node("Max", {x, lo}, tensor + "_clipped_below", rank), hi},
                                tensor + "_clipped", rank)
                  : graph_.node("Clip", {x, lo, hi}, tensor + "_clipped", rank);
  }
  const std::string scale = graph_.initializer(tensor + "_scale", scale_tensor(grid));
  const std::string zp = graph_.codes(tensor + "_zero_point", zero_point_tensor(grid, type), type.elem_type);
  const std::string q =
      graph_.node("QuantizeLinear", {x, scale, zp}, tensor + "_quantized", rank, axis, domain_of(type));
  if (expose_) {
    exposed_.push_back({tensor, onnx::TensorProto::FLOAT});
    exposed_.push_back({q, type.elem_type});
  }
  const std::string dq = graph_.node("DequantizeLinear", {q, scale, zp}, tensor + "_dequantized", rank, axis, domain_of(type));
  if (grid.axis) per_axis_tensors_.insert(dq);
  return dq;
}

bool QuantizerSites::per_axis_qdq(const std::string& block, const std::vector<std::string>& inputs) const {
  if (kind_ != GraphKind::qdq || sim_ == nullptr) return false;
  for (const std::string& in : inputs) {
    if (per_axis_tensors_.count(in) != 0) return true;
  }
  const sim::QuantizerSlot& out = sim_->slot(block + ".output_quantizer");
  return out.active && out.node->uses_embedding_groups();
}

std::string QuantizerSites::parameter(const std::string& block, const std::string& param, const at::Tensor& value) {
  const std::string name = block + "." + param;
  const sim::QuantizerSlot* slot = active_slot(block + "." + param + "_quantizer");
  if (slot != nullptr) quantizers_.push_back({slot->name, name, true});
  if (slot == nullptr || kind_ == GraphKind::float_graph) return graph_.initializer(name, value);
  const QuantizerGrid grid = quantizer_grid(*slot);
  const CodeType type = code_type(grid, slot->name, /*activation=*/false);
  const at::Tensor simulated = simulated_parameter(*slot, value, grid);
  const std::string codes = graph_.codes(name + "_quantized", parameter_codes(*slot, simulated, grid, type), type.elem_type);
  const std::string scale = graph_.initializer(name + "_scale", scale_tensor(grid));
  const std::string zp = graph_.codes(name + "_zero_point", zero_point_tensor(grid, type), type.elem_type);
  std::vector<Attribute> axis;
  if (grid.axis) axis.push_back({"axis", *grid.axis < 0 ? *grid.axis + simulated.dim() : *grid.axis});
  return graph_.node("DequantizeLinear", {codes, scale, zp}, name + "_dequantized", static_cast<int>(simulated.dim()),
                     axis, domain_of(type));
}

void QuantizerSites::check_all_reached() const {
  if (sim_ == nullptr) return;
  for (const sim::QuantizerSlot& s : sim_->quantizers()) {
    QSIM_CHECK(!s.active || reached_.count(s.name) != 0, ConfigError,
               "onnx export: active quantizer '{}' sits in block '{}', which the exporter does not know", s.name,
               s.block);
  }
}

void QuantizerSites::add_exposed_outputs() const {
  for (const Exposed& e : exposed_) graph_.output(e.name, e.elem_type);
}

}  // namespace qsim::deploy::detail
