#pragma once

// LayerNorm over the trailing dimensions, with slots for its input, output, gain
// ("weight", which AIMET quantizes like any weight) and shift ("bias").
// AIMET op type "LayerNorm".

#include <cstdint>
#include <string_view>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/quantizable.hpp"

namespace qsim::nn {

/// Options for LayerNorm, e.g. `LayerNormOptions({768}).eps(1e-12)`.
struct LayerNormOptions {
  /* implicit */ LayerNormOptions(std::vector<int64_t> normalized_shape);
  /// The trailing shape normalised over.
  TORCH_ARG(std::vector<int64_t>, normalized_shape);
  /// Added to the variance (BERT: the config's layer_norm_eps, 1e-12).
  TORCH_ARG(double, eps) = 1e-5;
  /// Whether to learn weight (gain, init 1) and bias (init 0).
  TORCH_ARG(bool, elementwise_affine) = true;
};

/// Example: `LayerNorm norm(LayerNormOptions({768}).eps(1e-12)); auto y = norm(x);`
class LayerNormImpl : public torch::nn::Cloneable<LayerNormImpl>, public Quantizable {
 public:
  explicit LayerNormImpl(const LayerNormOptions& options);

  /// Registers weight and bias (undefined without elementwise_affine) and the slots
  /// input_quantizers.0, weight_quantizer, bias_quantizer, output_quantizer.
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  std::string_view op_type() const override { return "LayerNorm"; }

  torch::Tensor forward(const torch::Tensor& input);

  LayerNormOptions options;
  torch::Tensor weight;
  torch::Tensor bias;
  quant::QuantizerNode weight_quantizer{nullptr};
  quant::QuantizerNode bias_quantizer{nullptr};
};
TORCH_MODULE(LayerNorm);

}  // namespace qsim::nn
