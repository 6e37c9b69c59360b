#include "qsim/quant/tensor_ownership.hpp"

#include <ATen/ExpandUtils.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/result_type.h>

namespace qsim::quant {

bool can_overwrite(const at::Tensor& x) {
  return x.defined() && x.use_count() == 1 && x.storage().use_count() == 1 && x.device().is_cpu() &&
         x.is_contiguous() && !x.requires_grad() && !at::GradMode::is_enabled();
}

bool result_fits(const at::Tensor& a, const at::Tensor& b) {
  return at::result_type(a, b) == a.scalar_type() && c10::IntArrayRef(at::infer_size(a.sizes(), b.sizes())) == a.sizes();
}

}  // namespace qsim::quant
