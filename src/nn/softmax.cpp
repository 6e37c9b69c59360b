#include "qsim/nn/softmax.hpp"

#include <ostream>

namespace qsim::nn {

SoftmaxOptions::SoftmaxOptions(int64_t dim) : dim_(dim) {}

SoftmaxImpl::SoftmaxImpl(const SoftmaxOptions& options_) : options(options_) { reset(); }

void SoftmaxImpl::reset() { register_activation_quantizers(*this, 1); }

void SoftmaxImpl::pretty_print(std::ostream& stream) const {
  stream << "qsim::nn::Softmax(dim=" << options.dim() << ")";
}

torch::Tensor SoftmaxImpl::forward(const torch::Tensor& input) {
  return quantize_output(at::softmax(quantize_input(0, input), options.dim()));
}

}  // namespace qsim::nn
