#include "qsim/quant/encoding.hpp"

#include <algorithm>
#include <cmath>

#include "detail/check.hpp"

namespace qsim::quant {
namespace {

struct GridFlags {
  bool symmetric = false;
  bool strict = false;
  bool unsigned_allowed = false;
};

GridFlags flags_of(Symmetry symmetry) {
  switch (symmetry) {
    case Symmetry::asymmetric: return {false, false, false};
    case Symmetry::symmetric: return {true, false, false};
    case Symmetry::strict_symmetric: return {true, true, false};
    case Symmetry::unsigned_symmetric: return {true, false, true};
  }
  throw ConfigError(fmt::format("unknown symmetry value {}", static_cast<int>(symmetry)));
}

// Semantics §1, signed symmetric branch: P positive and ceil(N/2) negative levels.
Encoding signed_symmetric(double lo, double hi, int bitwidth, double steps) {
  const double abs_max = std::max(std::fabs(lo), std::fabs(hi));
  const double positive = std::floor(steps / 2.0);
  Encoding e;
  e.bitwidth = bitwidth;
  e.delta = abs_max / positive;
  e.offset = -std::ceil(steps / 2.0);
  e.min = e.offset * e.delta;
  e.max = positive * e.delta;
  return e;
}

// Semantics §1, asymmetric (and unsigned symmetric) branch; max = (hi − lo) + min.
Encoding asymmetric(double lo, double hi, int bitwidth, double steps) {
  Encoding e;
  e.bitwidth = bitwidth;
  e.delta = (hi - lo) / steps;
  if (lo < 0.0 && hi > 0.0) {
    const double zero_point = std::clamp(std::round(-lo / e.delta), 0.0, steps);
    e.offset = -zero_point;
  } else {
    e.offset = std::round(lo / e.delta);
  }
  e.min = e.offset * e.delta;
  e.max = (hi - lo) + e.min;
  return e;
}

}  // namespace

bool operator==(const Encoding& a, const Encoding& b) {
  return a.bitwidth == b.bitwidth && a.min == b.min && a.max == b.max && a.delta == b.delta &&
         a.offset == b.offset;
}

void check_bitwidth(int bitwidth, Symmetry symmetry, std::string_view what) {
  QSIM_CHECK(bitwidth >= 1 && bitwidth <= 32, ConfigError, "{}: bitwidth must be in [1, 32], got {}", what,
             bitwidth);
  const bool always_signed = symmetry == Symmetry::symmetric || symmetry == Symmetry::strict_symmetric;
  QSIM_CHECK(!always_signed || bitwidth >= 2, ConfigError,
             "{}: {} encodings need a bitwidth of at least 2 (no positive level at 1 bit), got {}", what,
             to_string(symmetry), bitwidth);
}

double grid_steps(int bitwidth, Symmetry symmetry) {
  const double steps = std::ldexp(1.0, bitwidth) - 1.0;
  return symmetry == Symmetry::strict_symmetric ? steps - 1.0 : steps;
}

Encoding make_encoding(double lo, double hi, int bitwidth, Symmetry symmetry) {
  check_bitwidth(bitwidth, symmetry, "encoding");
  QSIM_CHECK(std::isfinite(lo) && std::isfinite(hi), ValueError,
             "encoding range: min and max must be finite, got [{}, {}]", lo, hi);
  QSIM_CHECK(lo <= hi, ValueError, "encoding range: min must not exceed max, got [{}, {}]", lo, hi);
  QSIM_CHECK(lo <= 0.0 && hi >= 0.0, ValueError,
             "encoding range: [{}, {}] must contain 0 (widen it first, see widen_range)", lo, hi);
  QSIM_CHECK(hi > lo, ValueError, "encoding range: [{}, {}] is empty (widen it first, see widen_range)", lo, hi);
  const GridFlags flags = flags_of(symmetry);
  const double steps = grid_steps(bitwidth, symmetry);
  if (flags.symmetric && (lo < 0.0 || !flags.unsigned_allowed)) {
    QSIM_CHECK(bitwidth >= 2, ConfigError,
               "encoding: {} range [{}, {}] is signed and needs a bitwidth of at least 2, got {}",
               to_string(symmetry), lo, hi, bitwidth);
    return signed_symmetric(lo, hi, bitwidth, steps);
  }
  return asymmetric(lo, hi, bitwidth, steps);
}

Range widen_range(double min, double max, double min_range) {
  QSIM_CHECK(std::isfinite(min) && std::isfinite(max), ValueError,
             "range: min and max must be finite, got [{}, {}]", min, max);
  QSIM_CHECK(min <= max, ValueError, "range: min must not exceed max, got [{}, {}]", min, max);
  Range r{std::min(min, 0.0), std::max(max, 0.0)};
  r.max = std::max(r.max, r.min + min_range);
  return r;
}

Encoding make_tf_encoding(double min, double max, int bitwidth, Symmetry symmetry) {
  const Range r = widen_range(min, max, kMinRange);
  return make_encoding(r.min, r.max, bitwidth, symmetry);
}

std::string_view to_string(Symmetry symmetry) {
  switch (symmetry) {
    case Symmetry::asymmetric: return "asymmetric";
    case Symmetry::symmetric: return "symmetric";
    case Symmetry::strict_symmetric: return "strict_symmetric";
    case Symmetry::unsigned_symmetric: return "unsigned_symmetric";
  }
  return "unknown";
}

Symmetry parse_symmetry(std::string_view name) {
  if (name == "asymmetric") return Symmetry::asymmetric;
  if (name == "symmetric") return Symmetry::symmetric;
  if (name == "strict_symmetric") return Symmetry::strict_symmetric;
  if (name == "unsigned_symmetric") return Symmetry::unsigned_symmetric;
  throw ConfigError(fmt::format(
      "unknown symmetry '{}': expected asymmetric, symmetric, strict_symmetric or unsigned_symmetric", name));
}

}  // namespace qsim::quant
