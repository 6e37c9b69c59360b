#pragma once

// Dropout block (AIMET op type "Dropout"). AIMET wraps nn.Dropout like any module: in
// eval it is the identity, yet its output quantizer re-quantizes the producer's output
// with an encoding of its own.

#include <cstdint>
#include <string_view>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/quantizable.hpp"

namespace qsim::nn {

/// Options for Dropout, e.g. `DropoutOptions(0.1)`.
struct DropoutOptions {
  /* implicit */ DropoutOptions(double p = 0.5);
  /// Probability of zeroing an element in train(); checked to be in [0, 1).
  TORCH_ARG(double, p) = 0.5;
};

/// Active only while the module is in train(); in eval it returns its input (then
/// the output quantizer, when enabled).
/// Example: `Dropout dropout(DropoutOptions(0.1)); auto y = dropout(x);`
class DropoutImpl : public torch::nn::Cloneable<DropoutImpl>, public Quantizable {
 public:
  explicit DropoutImpl(const DropoutOptions& options = {});
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  std::string_view op_type() const override { return "Dropout"; }
  torch::Tensor forward(const torch::Tensor& input);
  DropoutOptions options;
};
TORCH_MODULE(Dropout);

}  // namespace qsim::nn
