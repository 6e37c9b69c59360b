#include "qsim/nn/layer_norm.hpp"

#include <ostream>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "detail/check.hpp"
#include "nn/chunked_ops.hpp"
#include "nn/recipe_ops.hpp"

namespace qsim::nn {

LayerNormOptions::LayerNormOptions(std::vector<int64_t> normalized_shape)
    : normalized_shape_(std::move(normalized_shape)) {}

LayerNormImpl::LayerNormImpl(const LayerNormOptions& options_) : options(options_) { reset(); }

void LayerNormImpl::reset() {
  const auto& shape = options.normalized_shape();
  bool positive = !shape.empty();
  for (int64_t size : shape) positive = positive && size > 0;
  QSIM_CHECK(positive, ConfigError, "layer_norm: normalized_shape must be non-empty and positive, got [{}]",
             fmt::join(shape, ", "));
  QSIM_CHECK(options.eps() > 0.0, ConfigError, "layer_norm: eps must be positive, got {}", options.eps());
  register_activation_quantizers(*this, 1);
  const bool affine = options.elementwise_affine();
  weight = register_parameter("weight", affine ? torch::ones(shape) : torch::Tensor(), affine);
  bias = register_parameter("bias", affine ? torch::zeros(shape) : torch::Tensor(), affine);
  weight_quantizer = register_param_quantizer(*this, "weight");
  bias_quantizer = register_param_quantizer(*this, "bias");
}

void LayerNormImpl::pretty_print(std::ostream& stream) const {
  stream << "qsim::nn::LayerNorm([" << fmt::format("{}", fmt::join(options.normalized_shape(), ", "))
         << "], eps=" << options.eps() << ", elementwise_affine=" << std::boolalpha
         << options.elementwise_affine() << ")";
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& input) {
  // One slot per statement: inputs, then parameters, then the output (AIMET's order).
  const torch::Tensor x = quantize_input(0, input);
  const torch::Tensor w = weight.defined() ? weight_quantizer(weight) : weight;
  const torch::Tensor b = bias.defined() ? bias_quantizer(bias) : bias;
  const auto& shape = options.normalized_shape();
  if (auto y = detail::layer_norm_keeping_recipes(x, shape, w, b, options.eps())) {
    return quantize_output(std::move(*y));  // QAT
  }
  const auto dims = static_cast<int64_t>(shape.size());
  const bool rows = x.dim() >= dims && x.sizes().slice(static_cast<size_t>(x.dim() - dims)) == c10::IntArrayRef(shape);
  if (!rows || !detail::chunkable(x) || (w.defined() && !detail::chunkable(w)) || (b.defined() && !detail::chunkable(b))) {
    return quantize_output(at::layer_norm(x, shape, w, b, options.eps(), /*cudnn_enable=*/true));
  }
  const auto fused = output_quantizer->prepare_fused(x.sizes());
  torch::Tensor y = detail::chunked_layer_norm(x, c10::multiply_integers(shape), w, b, options.eps(),
                                               fused ? &*fused : nullptr);
  return fused ? y : quantize_output(std::move(y));
}

}  // namespace qsim::nn
