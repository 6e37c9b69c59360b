#include "qsim/nn/gelu.hpp"

#include <ostream>

namespace qsim::nn {

void GELUImpl::reset() { register_activation_quantizers(*this, 1); }

void GELUImpl::pretty_print(std::ostream& stream) const { stream << "qsim::nn::GELU()"; }

torch::Tensor GELUImpl::forward(const torch::Tensor& input) {
  return quantize_output(at::gelu(quantize_input(0, input), "none"));
}

}  // namespace qsim::nn
