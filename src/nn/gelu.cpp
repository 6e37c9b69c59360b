#include "qsim/nn/gelu.hpp"

#include <ostream>

#include "nn/chunked_ops.hpp"
#include "nn/recipe_ops.hpp"
#include "qsim/quant/codes.hpp"

namespace qsim::nn {

void GELUImpl::reset() {
  kernel.reset();  // a clone computes in float until it gets its own
  register_activation_quantizers(*this, 1);
}

void GELUImpl::pretty_print(std::ostream& stream) const { stream << "qsim::nn::GELU()"; }

torch::Tensor GELUImpl::forward(const torch::Tensor& input) {
  if (quant::is_code_tensor(input)) {
    if (kernel) {
      if (auto y = kernel->forward(input)) return std::move(*y);
    }
    return forward(quant::codes_to_float(input));
  }
  const torch::Tensor x = quantize_input(0, input);
  if (auto y = detail::gelu_keeping_recipes(x)) return quantize_output(std::move(*y));  // QAT
  if (!detail::chunkable(x)) return quantize_output(at::gelu(x, "none"));
  const auto fused = output_quantizer->prepare_fused(x.sizes());
  torch::Tensor y = detail::chunked_gelu(x, fused ? &*fused : nullptr);
  return fused ? y : quantize_output(std::move(y));
}

}  // namespace qsim::nn
