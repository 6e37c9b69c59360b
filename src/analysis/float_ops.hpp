#pragma once

// Float32 helpers that reproduce the exact operation order of AIMET's float
// analyzers (quantization-semantics.md §3), shared by the SQNR and MSE searches.

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "analysis/batch_stats.hpp"

namespace qsim::analysis::detail {

/// (int) of a float, as AIMET converts; saturated (NaN → 0) so degenerate inputs
/// stay defined behaviour. Equal to the plain conversion wherever that is defined.
inline int to_int(float v) {
  if (v != v) return 0;
  if (!(v > -2147483648.0f)) return INT32_MIN;
  if (!(v < 2147483648.0f)) return INT32_MAX;
  return static_cast<int>(v);
}

/// (int) of a double, saturated likewise.
inline int to_int(double v) {
  if (v != v) return 0;
  if (!(v > -2147483649.0)) return INT32_MIN;
  if (!(v < 2147483648.0)) return INT32_MAX;
  return static_cast<int>(v);
}

/// acc += p·pow(d, 2) with a float accumulator: pow and the product are double,
/// the sum is rounded back to float (C++'s promotion of pow(float, int)).
inline float add_square(float acc, double p, float d) {
  const double dd = static_cast<double>(d);
  return static_cast<float>(static_cast<double>(acc) + p * (dd * dd));
}

/// clamp(floor((value − start) / width), 0, 511) in float: the pdf bucket of a value.
inline int bucket_index(float value, float start, float width) {
  const int i = to_int(std::floor((value - start) / width));
  return std::min(std::max(0, i), kBuckets - 1);
}

}  // namespace qsim::analysis::detail
