#include "qsim/nn/elementwise.hpp"

#include <ATen/ExpandUtils.h>
#include <ATen/ops/result_type.h>

#include "qsim/quant/tensor_ownership.hpp"

namespace qsim::nn::detail {

bool fits_in_place(const torch::Tensor& a, const torch::Tensor& b) {
  return quant::can_overwrite(a) && at::result_type(a, b) == a.scalar_type() &&
         c10::IntArrayRef(at::infer_size(a.sizes(), b.sizes())) == a.sizes();
}

}  // namespace qsim::nn::detail
