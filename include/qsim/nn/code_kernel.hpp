#pragma once

// CodeKernel: an elementwise block computed on 8-bit codes (quant/codes.hpp) in
// inference, e.g. a GELU as a 256-entry table between two integer Linears
// (sim/int8_backend.hpp). A block that receives a code tensor offers it to its
// kernel first; when there is none, or it declines, the block computes in float on
// the codes' exact values, so a code tensor is never wrong anywhere, only slower.

#include <optional>

#include <torch/types.h>

namespace qsim::nn {

class CodeKernel {
 public:
  virtual ~CodeKernel() = default;
  /// The block's output for code tensor `codes`, as a code tensor, or nullopt when
  /// this kernel does not apply now (another grid, the block's quantizers off).
  virtual std::optional<torch::Tensor> forward(const torch::Tensor& codes) = 0;
};

}  // namespace qsim::nn
