#pragma once

// GELU block (AIMET op type "GELU"): exact erf form, one input slot and an output slot.

#include <cstdint>
#include <string_view>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/quantizable.hpp"

namespace qsim::nn {

/// GELU(x) = x·Φ(x) with the exact erf (never the tanh approximation).
/// Example: `GELU act; auto y = act(x);`
class GELUImpl : public torch::nn::Cloneable<GELUImpl>, public Quantizable {
 public:
  GELUImpl() { reset(); }
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  std::string_view op_type() const override { return "GELU"; }
  torch::Tensor forward(const torch::Tensor& input);
};
TORCH_MODULE(GELU);

}  // namespace qsim::nn
