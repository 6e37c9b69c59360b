#pragma once

// BERT's query, key and value projections as one GEMM in inference: the three
// weights (after their weight quantizers) stacked into one [3H, H] matrix, kept
// until a weight changes, so each row block of hidden states is read once for all
// three. Each projection's output quantizer is fused in over its own third of the
// columns where all three can be (static grid), else applied to its slice after
// the GEMM — the same values either way, observers (calibration) included.
//
// The one GEMM is taken in every inference mode (FP32, calibration, quantized,
// range learning without grad), so the unquantized Q/K/V a calibration sees are
// the ones inference quantizes. They differ from three separate GEMMs in the last
// bits (OpenBLAS's summation depends on the matrix width; tests bound it), as the
// thread-invariant products differ from ATen's; training takes the three Linears.

#include <array>
#include <optional>
#include <vector>

#include <torch/types.h>

#include "qsim/nn/linear.hpp"

namespace qsim::models::bert::detail {

class FusedQkv {
 public:
  /// query(hidden), key(hidden), value(hidden) through one GEMM, or empty when
  /// they cannot share it: autograd recording, an input quantizer on (each would
  /// see its own quantized input), different widths, or operands outside the
  /// thread-invariant path (not float32 on the CPU).
  std::optional<std::array<torch::Tensor, 3>> project(nn::LinearImpl& query, nn::LinearImpl& key,
                                                      nn::LinearImpl& value, const torch::Tensor& hidden);

 private:
  struct Source {
    const void* impl = nullptr;
    const void* data = nullptr;
    int64_t version = -1;
    bool operator==(const Source& o) const { return impl == o.impl && data == o.data && version == o.version; }
  };
  const torch::Tensor& stacked(const std::array<torch::Tensor, 3>& parts, std::vector<Source>& key,
                               torch::Tensor& cache);

  std::vector<Source> weight_key_, bias_key_;
  torch::Tensor weight_, bias_;
};

}  // namespace qsim::models::bert::detail
