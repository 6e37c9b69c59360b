#pragma once

// Linear: y = x·Wᵀ + b with quantizer slots for its input, output, weight and bias
// (AIMET op type "Gemm"). Parameters are quantized on every forward through their
// slot, so gradients reach the float weights through the quantizer's own backward.

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/quantizable.hpp"

namespace qsim::nn {

/// Options for Linear, e.g. `LinearOptions(768, 2).bias(false)`.
struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features);
  /// Size of each input's last dimension.
  TORCH_ARG(int64_t, in_features);
  /// Size of each output's last dimension.
  TORCH_ARG(int64_t, out_features);
  /// Whether to learn an additive bias; when false `bias` is registered undefined.
  TORCH_ARG(bool, bias) = true;
};

class LinearImpl;

/// Another implementation of a Linear block for inference, e.g. real integer
/// arithmetic (sim/int8_backend.hpp). While one is attached and autograd is off,
/// Linear::forward hands it the whole block, quantizers included; it answers
/// nullopt to let the simulated path run (e.g. when its quantizers are off). The
/// input may be a code tensor (quant/codes.hpp); one the kernel declines is
/// computed in float on its values.
class LinearKernel {
 public:
  virtual ~LinearKernel() = default;
  /// Whether forward would compute now (e.g. the block's quantizers are on).
  virtual bool active(const LinearImpl& linear) const = 0;
  virtual std::optional<torch::Tensor> forward(LinearImpl& linear, const torch::Tensor& input) = 0;
};

/// Example: `Linear dense(LinearOptions(768, 768)); auto y = dense(x);`
/// Weights are initialised as torch::nn::Linear does (Kaiming-uniform); checkpoints
/// overwrite them.
class LinearImpl : public torch::nn::Cloneable<LinearImpl>, public Quantizable {
 public:
  LinearImpl(int64_t in_features, int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);

  /// Registers weight [out, in], bias [out] (undefined when off) and the slots
  /// input_quantizers.0, weight_quantizer, bias_quantizer, output_quantizer.
  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  std::string_view op_type() const override { return "Gemm"; }

  /// x: [..., in_features] float → [..., out_features].
  torch::Tensor forward(const torch::Tensor& input);

  LinearOptions options;
  torch::Tensor weight;
  torch::Tensor bias;
  quant::QuantizerNode weight_quantizer{nullptr};
  quant::QuantizerNode bias_quantizer{nullptr};
  /// Inference-only replacement of this block's arithmetic (LinearKernel); not cloned.
  std::shared_ptr<LinearKernel> kernel;
};
TORCH_MODULE(Linear);

}  // namespace qsim::nn
