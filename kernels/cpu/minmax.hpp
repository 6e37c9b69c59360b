#pragma once

// Batch minimum and maximum in one pass (quantization-semantics.md §3.1 TF
// statistics, §3.2 histogram initialisation), free of LibTorch. The analysis layer
// splits a batch into chunks (at::parallel_for) and merges the partial results.
// The AVX2 path is chosen at run time (avx2_active() in fake_quant_cpu.hpp) and
// gives exactly the scalar result: min and max are order independent.

#include <cstdint>

namespace qsim::kernels::cpu {

/// Extremes of a range of floats, plus whether every value was finite.
struct MinMax {
  float min;    ///< +inf for an empty range
  float max;    ///< −inf for an empty range
  bool finite;  ///< false when a value is NaN or ±Inf; min and max are then meaningless
};

/// The identity of merge(): an empty range.
MinMax empty_minmax();

/// Min and max of x[0, n) in float, with the finiteness check, in one pass.
MinMax minmax(const float* x, int64_t n);

/// The MinMax of the concatenation of two ranges.
MinMax merge(const MinMax& a, const MinMax& b);

}  // namespace qsim::kernels::cpu
