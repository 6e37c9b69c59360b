#include "qsim/quant/tensor_ownership.hpp"

#include <ATen/core/grad_mode.h>

namespace qsim::quant {

bool can_overwrite(const at::Tensor& x) {
  return x.defined() && x.use_count() == 1 && x.storage().use_count() == 1 && x.device().is_cpu() &&
         x.is_contiguous() && !x.requires_grad() && !at::GradMode::is_enabled();
}

}  // namespace qsim::quant
