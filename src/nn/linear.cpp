#include "qsim/nn/linear.hpp"

#include <cmath>
#include <ostream>
#include <vector>

#include <torch/nn/init.h>

#include "detail/check.hpp"
#include "nn/recipe_ops.hpp"
#include "qsim/quant/codes.hpp"
#include "qsim/nn/thread_invariant_matmul.hpp"

namespace qsim::nn {

LinearOptions::LinearOptions(int64_t in_features, int64_t out_features)
    : in_features_(in_features), out_features_(out_features) {}

LinearImpl::LinearImpl(const LinearOptions& options_) : options(options_) { reset(); }

void LinearImpl::reset() {
  QSIM_CHECK(options.in_features() > 0 && options.out_features() > 0, ConfigError,
             "linear: features must be positive, got in={} out={}", options.in_features(),
             options.out_features());
  kernel.reset();  // a clone computes in float until it gets its own
  register_activation_quantizers(*this, 1);
  weight = register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  bias = register_parameter("bias", options.bias() ? torch::empty({options.out_features()}) : torch::Tensor(),
                            /*requires_grad=*/options.bias());
  weight_quantizer = register_param_quantizer(*this, "weight");
  bias_quantizer = register_param_quantizer(*this, "bias");
  // torch::nn::Linear's initialisation, so an untrained block behaves like LibTorch's.
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

void LinearImpl::pretty_print(std::ostream& stream) const {
  stream << "qsim::nn::Linear(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ", bias=" << std::boolalpha << options.bias()
         << ")";
}

torch::Tensor LinearImpl::forward(const torch::Tensor& input) {
  if (kernel && !torch::GradMode::is_enabled()) {
    if (auto y = kernel->forward(*this, input)) return std::move(*y);
  }
  if (quant::is_code_tensor(input)) return forward(quant::codes_to_float(input));  // no kernel took the codes
  // One slot per statement: inputs, then parameters, then the output (AIMET's order).
  const torch::Tensor x = quantize_input(0, input);
  const torch::Tensor w = weight_quantizer(weight);
  const torch::Tensor b = bias.defined() ? bias_quantizer(bias) : bias;
  if (x.dim() >= 1 && x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat) {
    std::vector<int64_t> shape = x.sizes().vec();
    shape.back() = options.out_features();
    if (const auto fused = output_quantizer->prepare_fused(shape)) return thread_invariant_linear(x, w, b, &*fused);
  }
  if (auto y = detail::linear_keeping_recipes(x, w, b)) return quantize_output(std::move(*y));  // QAT
  return quantize_output(thread_invariant_linear(x, w, b));
}

}  // namespace qsim::nn
