#include "qsim/nn/softmax.hpp"

#include <ostream>
#include "nn/chunked_ops.hpp"

namespace qsim::nn {

SoftmaxOptions::SoftmaxOptions(int64_t dim) : dim_(dim) {}

SoftmaxImpl::SoftmaxImpl(const SoftmaxOptions& options_) : options(options_) { reset(); }

void SoftmaxImpl::reset() { register_activation_quantizers(*this, 1); }

void SoftmaxImpl::pretty_print(std::ostream& stream) const {
  stream << "qsim::nn::Softmax(dim=" << options.dim() << ")";
}

torch::Tensor SoftmaxImpl::forward(const torch::Tensor& input) {
  const torch::Tensor x = quantize_input(0, input);
  const bool last_dim = x.dim() > 0 && (options.dim() == -1 || options.dim() == x.dim() - 1);
  if (!last_dim || !detail::chunkable(x)) return quantize_output(at::softmax(x, options.dim()));
  const auto fused = output_quantizer->prepare_fused(x.sizes());
  torch::Tensor y = detail::chunked_softmax(x, fused ? &*fused : nullptr);
  return fused ? y : quantize_output(std::move(y));
}

}  // namespace qsim::nn
