#include "deploy/quantizer_grid.hpp"

#include <cmath>

#include <onnx/onnx_pb.h>

#include "detail/check.hpp"
#include "qsim/quant/embedding_groups.hpp"
#include "qsim/quant/range_learning.hpp"
#include "qsim/quant/static_grid.hpp"

namespace qsim::deploy::detail {
namespace {

std::vector<ChannelGrid> static_channels(const sim::QuantizerSlot& slot) {
  const quant::QuantizerNodeImpl& node = *slot.node;
  QSIM_CHECK(node.has_encoding(), ConfigError, "onnx export: active quantizer '{}' has no encoding", slot.name);
  std::vector<quant::Encoding> encodings = node.encodings();
  if (node.uses_embedding_groups()) encodings = quant::expand_to_channels(encodings, node.group_of_channel());
  std::vector<ChannelGrid> out;
  for (const quant::Encoding& e : encodings) {
    const quant::StaticGridParams p = quant::static_grid_params(e, slot.name);
    out.push_back({static_cast<float>(p.delta), static_cast<int64_t>(p.offset), static_cast<int64_t>(p.steps),
                   static_cast<float>(p.lo), static_cast<float>(p.hi)});
  }
  return out;
}

std::vector<ChannelGrid> learned_channels(const sim::QuantizerSlot& slot) {
  const quant::QuantizerNodeImpl& node = *slot.node;
  // The forward gates its range in place first (§5.1); read a gated copy.
  const at::Tensor min = node.encoding_min.detach().to(at::kCPU).clone();
  const at::Tensor max = node.encoding_max.detach().to(at::kCPU).clone();
  quant::gate_learned_range_(min, max);
  quant::LearnedGridParams grid =
      quant::learned_grid_params(min, max, node.options.bitwidth(), node.options.symmetry());
  if (node.uses_embedding_groups()) {
    grid = quant::expand_groups(grid, at::tensor(node.group_of_channel(), at::kLong));
  }
  const at::Tensor delta = grid.delta.to(at::kCPU, at::kFloat).contiguous().reshape({-1});
  const at::Tensor offset = grid.offset.to(at::kCPU, at::kFloat).contiguous().reshape({-1});
  std::vector<ChannelGrid> out;
  for (int64_t c = 0; c < delta.numel(); ++c) {
    const float scale = delta[c].item<float>();
    const float o = offset[c].item<float>();
    QSIM_CHECK(o == std::round(o), ConfigError,
               "onnx export: quantizer '{}': its learned grid has no integer zero point (offset {})", slot.name, o);
    const auto steps = static_cast<float>(grid.steps);
    out.push_back({scale, static_cast<int64_t>(o), static_cast<int64_t>(grid.steps), o * scale, (steps + o) * scale});
  }
  return out;
}

bool fits_signed(const QuantizerGrid& grid, int bits) {
  const int64_t low = -(int64_t{1} << (bits - 1));
  const int64_t high = (int64_t{1} << (bits - 1)) - 1;
  for (const ChannelGrid& c : grid.channels) {
    if (c.offset >= 0 || c.offset < low || c.steps + c.offset > high) return false;
  }
  return true;
}

bool fits_unsigned(const QuantizerGrid& grid, int bits) {
  const int64_t high = (int64_t{1} << bits) - 1;
  for (const ChannelGrid& c : grid.channels) {
    if (c.offset > 0 || -c.offset > high || c.steps > high) return false;
  }
  return true;
}

bool saturation_is_grid(const QuantizerGrid& grid, const CodeType& type) {
  for (const ChannelGrid& c : grid.channels) {
    if (type.is_signed) {
      if (c.offset != -(int64_t{1} << (type.bits - 1)) || c.steps + c.offset != (int64_t{1} << (type.bits - 1)) - 1) {
        return false;
      }
    } else if (c.steps != (int64_t{1} << type.bits) - 1) {
      return false;
    }
  }
  return true;
}

int32_t element_type(int bits, bool is_signed) {
  switch (bits) {
    case 8: return is_signed ? onnx::TensorProto::INT8 : onnx::TensorProto::UINT8;
    case 16: return is_signed ? onnx::TensorProto::INT16 : onnx::TensorProto::UINT16;
    default: return onnx::TensorProto::INT32;
  }
}

}  // namespace

QuantizerGrid quantizer_grid(const sim::QuantizerSlot& slot) {
  const quant::QuantizerOptions& o = slot.node->options;
  QuantizerGrid grid;
  grid.bitwidth = o.bitwidth();
  grid.learned = o.grid() == quant::Grid::learned_grid;
  grid.symmetry = o.symmetry();
  grid.channels = grid.learned ? learned_channels(slot) : static_channels(slot);
  if (slot.node->uses_embedding_groups()) {
    grid.axis = -1;
  } else if (o.channel_axis()) {
    grid.axis = *o.channel_axis();
  }
  return grid;
}

CodeType code_type(const QuantizerGrid& grid, const std::string& what, bool activation) {
  const int limit = activation ? 16 : 32;
  QSIM_CHECK(grid.bitwidth <= limit, ConfigError,
             "onnx export: quantizer '{}': bitwidth {} has no ONNX QuantizeLinear type (at most {} bits{})", what,
             grid.bitwidth, limit, activation ? " for activations" : "");
  CodeType type;
  type.bits = grid.bitwidth <= 8 ? 8 : grid.bitwidth <= 16 ? 16 : 32;
  const bool symmetric = grid.symmetry != quant::Symmetry::asymmetric;
  if ((symmetric || type.bits == 32) && fits_signed(grid, type.bits)) {
    type.is_signed = true;
  } else {
    QSIM_CHECK(type.bits < 32 && fits_unsigned(grid, type.bits), ConfigError,
               "onnx export: quantizer '{}': its {}-bit grid fits no ONNX integer type (offset outside the type's "
               "zero points)",
               what, grid.bitwidth);
  }
  type.elem_type = element_type(type.bits, type.is_signed);
  type.needs_clip = !saturation_is_grid(grid, type);
  return type;
}

std::vector<int64_t> zero_points(const QuantizerGrid& grid, const CodeType& type) {
  std::vector<int64_t> out;
  for (const ChannelGrid& c : grid.channels) out.push_back(type.is_signed ? 0 : -c.offset);
  return out;
}

std::vector<quant::Encoding> grid_encodings(const QuantizerGrid& grid) {
  std::vector<quant::Encoding> out;
  for (const ChannelGrid& c : grid.channels) {
    quant::Encoding e;
    e.bitwidth = grid.bitwidth;
    e.delta = c.scale;
    e.offset = static_cast<double>(c.offset);
    e.min = e.offset * e.delta;
    e.max = (static_cast<double>(c.steps) + e.offset) * e.delta;
    out.push_back(e);
  }
  return out;
}

}  // namespace qsim::deploy::detail
