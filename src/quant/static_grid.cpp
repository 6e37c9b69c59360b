#include "qsim/quant/static_grid.hpp"

#include <algorithm>
#include <cmath>

#include "detail/check.hpp"

namespace qsim::quant {

StaticGridParams static_grid_params(const Encoding& e, std::string_view what) {
  check_bitwidth(e.bitwidth, Symmetry::asymmetric, what);
  QSIM_CHECK(std::isfinite(e.min) && std::isfinite(e.max), ValueError,
             "{}: encoding min and max must be finite, got [{}, {}]", what, e.min, e.max);
  QSIM_CHECK(e.min <= e.max, ValueError, "{}: encoding min must not exceed max, got [{}, {}]", what, e.min, e.max);
  StaticGridParams p;
  p.lo = std::min(e.min, 0.0);
  p.hi = std::max(e.max, 0.0);
  p.hi = std::max(p.hi, p.lo + kGateEpsilon);
  p.steps = std::ldexp(1.0, e.bitwidth) - 1.0;
  if (p.lo == -p.hi) p.steps -= 1.0;  // quirk §9.2: strict-symmetric detection by equality
  QSIM_CHECK(p.steps > 0.0, ValueError,
             "{}: a 1-bit static grid with min == -max ({}) has no steps (2^1 - 2 = 0)", what, e.max);
  p.delta = (p.hi - p.lo) / p.steps;
  p.offset = std::round(p.lo / p.delta);
  return p;
}

}  // namespace qsim::quant
