#include "analysis/grid_steps.hpp"

#include <cmath>
#include <cstdint>

#include "detail/check.hpp"

namespace qsim::analysis::detail {

GridFlags grid_flags(quant::Symmetry symmetry) {
  switch (symmetry) {
    case quant::Symmetry::asymmetric: return {false, false, false};
    case quant::Symmetry::symmetric: return {true, false, false};
    case quant::Symmetry::strict_symmetric: return {true, true, false};
    case quant::Symmetry::unsigned_symmetric: return {true, false, true};
  }
  throw ConfigError(fmt::format("unknown symmetry value {}", static_cast<int>(symmetry)));
}

float float_steps(int bitwidth, bool strict) {
  float steps = static_cast<float>(std::pow(2.0, bitwidth) - 1.0);
  if (strict) steps -= 1;
  return steps;
}

quant::Encoding all_zero_encoding(int bitwidth, float steps) {
  const double n = static_cast<double>(static_cast<int64_t>(steps));
  quant::Encoding e;
  e.bitwidth = bitwidth;
  e.delta = (1.0 - -1.0) / n;
  e.offset = std::floor(-1.0 / e.delta);
  e.min = e.offset * e.delta;
  e.max = e.min + n * e.delta;
  return e;
}

}  // namespace qsim::analysis::detail
