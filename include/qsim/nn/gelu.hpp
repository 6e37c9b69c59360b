#pragma once

// GELU block (AIMET op type "GELU"): exact erf form, one input slot and an output slot.

#include <cstdint>
#include <memory>
#include <string_view>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/code_kernel.hpp"
#include "qsim/nn/quantizable.hpp"

namespace qsim::nn {

/// GELU(x) = x·Φ(x) with the exact erf (never the tanh approximation).
/// Example: `GELU act; auto y = act(x);`. Takes a code tensor (quant/codes.hpp) too:
/// through `kernel` when one is attached and applies, else in float on its values.
class GELUImpl : public torch::nn::Cloneable<GELUImpl>, public Quantizable {
 public:
  GELUImpl() { reset(); }
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  std::string_view op_type() const override { return "GELU"; }
  torch::Tensor forward(const torch::Tensor& input);

  /// Inference-only computation on codes (CodeKernel); not cloned.
  std::shared_ptr<CodeKernel> kernel;
};
TORCH_MODULE(GELU);

}  // namespace qsim::nn
