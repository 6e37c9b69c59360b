#pragma once

// Encodings: the plain value every quantizer carries, and GRID, the one routine
// that turns a calibrated range into an encoding (quantization-semantics.md §0–§2).

#include <cstdint>
#include <string_view>

namespace qsim::quant {

/// How the integer grid is placed around zero (semantics §1). Never three bools.
enum class Symmetry {
  asymmetric,          ///< N = 2^b − 1 steps over [lo, hi], zero on a grid point
  symmetric,           ///< signed symmetric: Δ = max(|lo|,|hi|)/floor(N/2), o = −ceil(N/2)
  strict_symmetric,    ///< symmetric with N = 2^b − 2: min = −max
  unsigned_symmetric,  ///< symmetric, but unsigned (o = 0) when the range has no negative part
};

/// AIMET's TfEncoding: the grid point q represents Δ·(q + offset); offset is an
/// integer-valued, non-positive double (the usual zero point is −offset).
struct Encoding {
  int bitwidth = 8;
  double min = 0.0;
  double max = 0.0;
  double delta = 0.0;
  double offset = 0.0;
};

bool operator==(const Encoding& a, const Encoding& b);
inline bool operator!=(const Encoding& a, const Encoding& b) { return !(a == b); }

/// A real range [min, max] before it becomes an encoding.
struct Range {
  double min = 0.0;
  double max = 0.0;
};

/// TF analyzer's minimum range (MIN_RANGE, semantics §3.1): hi ≥ lo + 0.01.
inline constexpr double kMinRange = 0.01;
/// The gate of the static kernel and of range learning (EPSILON, semantics §2, §5.1).
inline constexpr double kGateEpsilon = 1e-5;

/// Throws ConfigError unless 1 ≤ bitwidth ≤ 32 (and ≥ 2 for the signed symmetric
/// schemes, whose grid needs a positive level). `what` names the quantizer.
void check_bitwidth(int bitwidth, Symmetry symmetry, std::string_view what = "quantizer");

/// GRID (semantics §1): builds the encoding for a range [lo, hi] that the caller
/// has already widened to contain 0 (widen_range). All arithmetic in double.
/// Throws ValueError for NaN/Inf bounds, lo > hi, a range without 0 or an empty
/// range (lo == hi == 0), ConfigError for a bad bitwidth. Symmetric schemes need
/// b ≥ 2 (at 1 bit floor(N/2) = 0 gives no positive level); unsigned symmetric at
/// 1 bit works only for ranges with lo == 0.
Encoding make_encoding(double lo, double hi, int bitwidth, Symmetry symmetry);

/// Zero-widening plus minimum range (semantics §3.1): lo = min(min, 0),
/// hi = max(max, 0), hi = max(hi, lo + min_range). ValueError for NaN/Inf or min > max.
Range widen_range(double min, double max, double min_range = kMinRange);

/// TF (min/max) encoding of observed statistics: widen_range then GRID.
Encoding make_tf_encoding(double min, double max, int bitwidth, Symmetry symmetry);

/// Number of quantization steps N: 2^b − 1, or 2^b − 2 for strict symmetric.
double grid_steps(int bitwidth, Symmetry symmetry);

std::string_view to_string(Symmetry symmetry);
/// Parses "asymmetric", "symmetric", "strict_symmetric", "unsigned_symmetric".
Symmetry parse_symmetry(std::string_view name);

}  // namespace qsim::quant
