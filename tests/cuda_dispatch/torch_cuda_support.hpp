#pragma once

// Support for the library-level CUDA tests: they run the public qsim ops on CUDA
// tensors and compare with the same ops on the CPU. They skip only when LibTorch
// sees no CUDA device (or this qsim has no CUDA dispatch); QSIM_REQUIRE_CUDA=1
// (scripts/gpu-check.sh) turns a skip into a failure.

#include <string>

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "qsim/config.hpp"
#include "support/require_cuda.hpp"

namespace qsim::test {

inline std::string no_torch_cuda_reason() {
  if (!torch::cuda::is_available()) return "LibTorch sees no CUDA device";
  if (!QSIM_CUDA_ENABLED) return "this qsim was built without CUDA dispatch (QSIM_WITH_CUDA, a CUDA LibTorch)";
  return "";
}

#define QSIM_REQUIRE_TORCH_CUDA() QSIM_SKIP_WITHOUT_CUDA(::qsim::test::no_torch_cuda_reason())

/// Bitwise equality of two float tensors of any float dtype (NaN payloads and the
/// sign of zero included), after bringing both to the CPU.
inline ::testing::AssertionResult same_bits(const torch::Tensor& got, const torch::Tensor& expected) {
  const torch::Tensor a = got.to(torch::kCPU).contiguous();
  const torch::Tensor b = expected.to(torch::kCPU).contiguous();
  if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes())
    return ::testing::AssertionFailure() << "dtype/shape differ: " << a.scalar_type() << a.sizes() << " vs "
                                         << b.scalar_type() << b.sizes();
  const auto int_type = a.element_size() == 4 ? torch::kInt : (a.element_size() == 8 ? torch::kLong : torch::kShort);
  const torch::Tensor differ = a.view(int_type).ne(b.view(int_type));
  const int64_t count = differ.sum().item<int64_t>();
  if (count == 0) return ::testing::AssertionSuccess();
  const int64_t first = differ.reshape({-1}).nonzero()[0][0].item<int64_t>();
  return ::testing::AssertionFailure() << count << " of " << a.numel() << " elements differ; first at flat index "
                                       << first << ": " << a.reshape({-1})[first].item<double>() << " vs "
                                       << b.reshape({-1})[first].item<double>();
}

/// |got − expected| ≤ rel·max(|expected|, floor) elementwise (float64 comparison).
inline ::testing::AssertionResult close_relative(const torch::Tensor& got, const torch::Tensor& expected, double rel,
                                                 double floor) {
  const torch::Tensor a = got.to(torch::kCPU, torch::kDouble);
  const torch::Tensor b = expected.to(torch::kCPU, torch::kDouble);
  const torch::Tensor bound = b.abs().clamp_min(floor) * rel;
  // NaN where both are NaN counts as agreement; NaN on one side only as failure.
  const torch::Tensor excess = ((a - b).abs() - bound).masked_fill(a.isnan() & b.isnan(), 0.0);
  const double worst = excess.max().item<double>();
  if (worst <= 0.0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "difference exceeds " << rel << " relative by " << worst;
}

}  // namespace qsim::test
