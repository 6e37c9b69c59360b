#pragma once

// Softmax block (AIMET op type "Softmax"): one input slot and an output slot.

#include <cstdint>
#include <string_view>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/quantizable.hpp"

namespace qsim::nn {

/// Options for Softmax, e.g. `SoftmaxOptions(-1)`.
struct SoftmaxOptions {
  /* implicit */ SoftmaxOptions(int64_t dim);
  /// The dimension that sums to 1 (negative counts from the end).
  TORCH_ARG(int64_t, dim);
};

/// Example: `Softmax softmax(SoftmaxOptions(-1)); auto probs = softmax(scores);`
class SoftmaxImpl : public torch::nn::Cloneable<SoftmaxImpl>, public Quantizable {
 public:
  explicit SoftmaxImpl(const SoftmaxOptions& options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  std::string_view op_type() const override { return "Softmax"; }
  torch::Tensor forward(const torch::Tensor& input);
  SoftmaxOptions options;
};
TORCH_MODULE(Softmax);

}  // namespace qsim::nn
