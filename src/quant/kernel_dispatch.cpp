#include "quant/kernel_dispatch.hpp"

#include <algorithm>

#include <ATen/ATen.h>

#include "detail/check.hpp"
#include "qsim/config.hpp"
#include "qsim/quant/output_pool.hpp"

namespace qsim::quant::detail {

void check_float_input(const at::Tensor& x, std::string_view what) {
  QSIM_CHECK(x.defined(), ValueError, "{}: input tensor is undefined", what);
  QSIM_CHECK(x.device().is_cpu() || (QSIM_CUDA_ENABLED && x.is_cuda()), ValueError,
             "{}: input must be a CPU{} tensor, got device {}{}", what, QSIM_CUDA_ENABLED ? " or CUDA" : "",
             x.device().str(), QSIM_CUDA_ENABLED ? "" : " (this qsim was built without CUDA dispatch)");
  const auto type = x.scalar_type();
  QSIM_CHECK(type == at::kFloat || type == at::kHalf || type == at::kBFloat16, ValueError,
             "{}: input dtype must be float32, float16 or bfloat16, got {}", what, c10::toString(type));
}

void check_same_device(const at::Tensor& x, const at::Tensor& other, std::string_view other_name,
                       std::string_view what) {
  QSIM_CHECK(other.device() == x.device(), ValueError, "{}: {} is on device {} but the input is on device {}", what,
             other_name, other.device().str(), x.device().str());
}

at::Tensor device_rows(std::initializer_list<const std::vector<float>*> rows, const at::Device& device) {
  const int64_t channels = rows.size() == 0 ? 0 : static_cast<int64_t>((*rows.begin())->size());
  at::Tensor host = at::empty({static_cast<int64_t>(rows.size()), channels},
                              at::TensorOptions().dtype(at::kFloat).pinned_memory(true));
  float* dst = host.data_ptr<float>();
  for (const std::vector<float>* row : rows) dst = std::copy(row->begin(), row->end(), dst);
  return host.to(device, /*non_blocking=*/true);
}

at::Tensor float_contiguous(const at::Tensor& x) { return x.to(at::kFloat).contiguous(); }

kernels::cpu::ChannelLayout channel_layout(const at::Tensor& x, std::optional<int64_t> axis, int64_t count,
                                           std::string_view what) {
  kernels::cpu::ChannelLayout layout;
  if (!axis) {
    QSIM_CHECK(count == 1, ValueError, "{}: per-tensor quantization takes 1 encoding, got {}", what, count);
    layout.channels = 1;
    layout.inner = std::max<int64_t>(x.numel(), 1);
    return layout;
  }
  const int64_t dims = x.dim();
  const int64_t a = *axis < 0 ? *axis + dims : *axis;
  QSIM_CHECK(a >= 0 && a < dims, ValueError, "{}: channel axis {} out of range for a {}-d tensor", what, *axis,
             dims);
  const int64_t channels = x.size(a);
  QSIM_CHECK(count == channels, ValueError, "{}: {} encodings for {} channels along axis {}", what, count,
             channels, a);
  layout.channels = channels;
  layout.inner = 1;
  for (int64_t d = a + 1; d < dims; ++d) layout.inner *= x.size(d);
  if (layout.inner == 0) layout.inner = 1;
  return layout;
}

namespace {
thread_local bool unpooled = false;
}  // namespace

UnpooledScope::UnpooledScope() : previous_(unpooled) { unpooled = true; }
UnpooledScope::~UnpooledScope() { unpooled = previous_; }

at::Tensor empty_output(const at::Tensor& input) {
  // Only forwards that autograd does not record recycle blocks (the rule of the
  // blocked GEMMs too): training's saved tensors, held for their exact size after
  // backward, would add to its peak memory instead of serving the next allocation.
  const bool recorded = at::GradMode::is_enabled() && input.requires_grad();
  if (recorded || unpooled) return at::empty(input.sizes(), at::TensorOptions().dtype(at::kFloat));
  return pooled_empty(input.sizes(), at::kFloat);
}

at::Tensor empty_gradient(at::IntArrayRef sizes) {
  const auto bytes = static_cast<std::size_t>(c10::multiply_integers(sizes)) * sizeof(float);
  if (bytes >= kFreshMappingBytes) return pooled_empty(sizes, at::kFloat);
  return at::empty(sizes, at::TensorOptions().dtype(at::kFloat));
}

at::Tensor to_input_dtype(const at::Tensor& result, const at::Tensor& input) {
  return input.scalar_type() == at::kFloat ? result : result.to(input.scalar_type());
}

}  // namespace qsim::quant::detail
