#pragma once

// Tanh block (AIMET op type "Tanh"): one input slot and an output slot (BERT pooler).

#include <cstdint>
#include <string_view>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/quantizable.hpp"

namespace qsim::nn {

/// Example: `Tanh act; auto y = act(x);`
class TanhImpl : public torch::nn::Cloneable<TanhImpl>, public Quantizable {
 public:
  TanhImpl() { reset(); }
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  std::string_view op_type() const override { return "Tanh"; }
  torch::Tensor forward(const torch::Tensor& input);
};
TORCH_MODULE(Tanh);

}  // namespace qsim::nn
