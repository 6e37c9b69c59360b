#pragma once

// The static grid of AIMET's C++ kernel (quantization-semantics.md §2): it ignores
// an encoding's stored delta/offset and re-derives them from (min, max, bitwidth)
// on every call, in double, with the 1e-5 gate and the exact `min == −max` rule.

#include "qsim/quant/encoding.hpp"

namespace qsim::quant {

/// What `fillQuantizeInfo` derives from an encoding; the kernel uses f32 of each.
struct StaticGridParams {
  double lo = 0.0;      ///< min(E.min, 0)
  double hi = 0.0;      ///< max(E.max, 0, lo + 1e-5)
  double steps = 0.0;   ///< 2^b − 1, or 2^b − 2 when lo == −hi exactly
  double delta = 0.0;   ///< (hi − lo) / steps
  double offset = 0.0;  ///< round_away(lo / delta)
};

/// Semantics §2. Throws ConfigError for a bitwidth outside [1, 32], ValueError for
/// a NaN/Inf bound, min > max, or a 1-bit encoding with min == −max (zero steps).
/// `what` names the quantizer or tensor in the message.
StaticGridParams static_grid_params(const Encoding& encoding, std::string_view what = "encoding");

}  // namespace qsim::quant
