#pragma once

// Small pieces every analyzer ending in an encoding needs: the symmetry flags of
// AIMET's computeEncoding, its float32 step count, and the fixed encoding of an
// analyzer that only ever saw all-zero batches.

#include "qsim/quant/encoding.hpp"

namespace qsim::analysis::detail {

/// AIMET's three flags (useSymmetricEncodings, useStrictSymmetric, useUnsignedSymmetric).
struct GridFlags {
  bool symmetric;
  bool strict;
  bool unsigned_allowed;
};

GridFlags grid_flags(quant::Symmetry symmetry);

/// numSteps as AIMET's float analyzers hold it: f32(2^b − 1), minus 1 in float
/// when `strict`.
float float_steps(int bitwidth, bool strict);

/// An analyzer that saw data but only zeros (so its histogram never started)
/// returns [−1, 1] on a grid of `steps` steps (semantics §3.3 step 1):
/// Δ = 2/N, o = floor(−1/Δ), min = o·Δ, max = min + N·Δ, in double.
quant::Encoding all_zero_encoding(int bitwidth, float steps);

}  // namespace qsim::analysis::detail
