#include "qsim/nn/dropout.hpp"

#include <ostream>

#include "detail/check.hpp"

namespace qsim::nn {

DropoutOptions::DropoutOptions(double p) : p_(p) {}

DropoutImpl::DropoutImpl(const DropoutOptions& options_) : options(options_) { reset(); }

void DropoutImpl::reset() {
  QSIM_CHECK(options.p() >= 0.0 && options.p() < 1.0, ConfigError, "dropout: p must be in [0, 1), got {}",
             options.p());
  register_activation_quantizers(*this, 1);
}

void DropoutImpl::pretty_print(std::ostream& stream) const {
  stream << "qsim::nn::Dropout(p=" << options.p() << ")";
}

torch::Tensor DropoutImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = quantize_input(0, input);
  if (is_training() && options.p() > 0.0) x = at::dropout(x, options.p(), /*train=*/true);
  return output_quantizer(x);
}

}  // namespace qsim::nn
