#include "qsim/nn/tanh.hpp"

#include <ostream>

namespace qsim::nn {

void TanhImpl::reset() { register_activation_quantizers(*this, 1); }

void TanhImpl::pretty_print(std::ostream& stream) const { stream << "qsim::nn::Tanh()"; }

torch::Tensor TanhImpl::forward(const torch::Tensor& input) {
  return quantize_output(at::tanh(quantize_input(0, input)));
}

}  // namespace qsim::nn
