#pragma once

// The integer grid a quantizer's forward uses, channel by channel, and the ONNX
// integer type that holds its codes. Value = Δ·(q + o) for codes q ∈ [0, N]
// (semantics §0). The static grid's Δ, o, N are the kernel's (§2: re-derived from
// min/max/bitwidth); the learned grid's those of the forward (§5.3, on the gated
// range), as the int8 backend reads them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "qsim/quant/encoding.hpp"
#include "qsim/sim/quantizer_slot.hpp"

namespace qsim::deploy::detail {

struct ChannelGrid {
  float scale = 0.0f;    ///< f32(Δ), what the forward divides by and multiplies with
  int64_t offset = 0;    ///< o (≤ 0 for the grids analyzers make)
  int64_t steps = 255;   ///< N
  float clip_lo = 0.0f;  ///< the forward's clamp before rounding (static: f32(lo); learned: o·Δ)
  float clip_hi = 0.0f;  ///< static: f32(hi); learned: (N + o)·Δ
};

struct QuantizerGrid {
  int bitwidth = 8;
  bool learned = false;
  quant::Symmetry symmetry = quant::Symmetry::asymmetric;
  /// One entry (per tensor) or one per channel along `axis`.
  std::vector<ChannelGrid> channels;
  /// Parameters: the slot's channel axis; embedding-group activations: the last
  /// axis (-1); per tensor: empty.
  std::optional<int64_t> axis;
};

/// The grid of an active slot; ConfigError naming it when it has no encoding or a
/// learned zero point that is not an integer.
QuantizerGrid quantizer_grid(const sim::QuantizerSlot& slot);

/// How the codes are stored: ONNX element type, signed (zero point 0, stored code
/// q + o) or unsigned (zero point −o, stored code q), and whether the container's
/// saturation differs from the grid's range so that a float clamp must come first.
struct CodeType {
  int32_t elem_type = 0;
  bool is_signed = false;
  int bits = 8;
  bool needs_clip = false;
};

/// ConfigError naming `what` when no ONNX QDQ type holds the grid (activations:
/// up to 16 bits; parameters: up to 32 bits signed).
CodeType code_type(const QuantizerGrid& grid, const std::string& what, bool activation);

/// The zero point of each channel for `type` (0 when signed, −o otherwise).
std::vector<int64_t> zero_points(const QuantizerGrid& grid, const CodeType& type);

/// The grid as encodings (one per channel): min = o·Δ, max = (N + o)·Δ, delta Δ,
/// offset o — what a learned quantizer's forward uses.
std::vector<quant::Encoding> grid_encodings(const QuantizerGrid& grid);

}  // namespace qsim::deploy::detail
