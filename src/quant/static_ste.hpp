#pragma once

// Internal pieces of the static-grid op shared by fake_quant.cpp and its autograd
// wrapper (static_grid_function.cpp).

#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "qsim/quant/encoding.hpp"

namespace qsim::quant::detail {

/// Forward without autograd, result in x's dtype.
at::Tensor static_forward(const at::Tensor& x, const std::vector<Encoding>& encodings, std::optional<int64_t> axis);

/// g·[min[c] ≤ y ≤ max[c]] with f32 bounds, result in grad's dtype.
at::Tensor static_ste(const at::Tensor& y, const at::Tensor& grad, const std::vector<float>& min,
                      const std::vector<float>& max, std::optional<int64_t> axis);

}  // namespace qsim::quant::detail
