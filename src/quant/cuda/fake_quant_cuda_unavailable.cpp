// The quant layer's CUDA entry points in a build without CUDA dispatch
// (QSIM_CUDA_ENABLED = 0). check_float_input refuses CUDA tensors before any of
// these could be reached; they throw all the same rather than do nothing.
#include "detail/check.hpp"
#include "quant/cuda/fake_quant_cuda.hpp"

namespace qsim::quant::detail::cuda {
namespace {

[[noreturn]] void unavailable(const char* op) {
  ::qsim::detail::raise<ValueError>(
      "{}: CUDA tensor, but this qsim was built without CUDA dispatch (QSIM_WITH_CUDA and a CUDA LibTorch)", op);
}

}  // namespace

void static_forward(const at::Tensor&, const at::Tensor&, ChannelLayout, const at::Tensor&) {
  unavailable("fake_quantize_static");
}
void static_codes(const at::Tensor&, const at::Tensor&, ChannelLayout, const at::Tensor&) {
  unavailable("quantize_static");
}
void static_ste_backward(const at::Tensor&, const at::Tensor&, const at::Tensor&, ChannelLayout, const at::Tensor&) {
  unavailable("fake_quantize_static_backward");
}
void learned_forward(const at::Tensor&, const at::Tensor&, ChannelLayout, const DeviceLearnedGrid&) {
  unavailable("fake_quantize_learned");
}
void learned_backward(const at::Tensor&, const at::Tensor&, const at::Tensor&, ChannelLayout,
                      const DeviceLearnedGrid&, bool, const at::Tensor&, const at::Tensor&) {
  unavailable("fake_quantize_learned_backward");
}

}  // namespace qsim::quant::detail::cuda
