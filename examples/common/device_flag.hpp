#pragma once

// The tools' --device flag: "cpu" or "cuda" (the current CUDA device; CUDA_VISIBLE_DEVICES
// picks which). A CUDA request without a visible device is a one-line ConfigError.

#include <string>

#include <torch/cuda.h>
#include <torch/types.h>

#include "detail/check.hpp"

namespace qsim::examples {

inline torch::Device parse_device_flag(const std::string& name) {
  QSIM_CHECK(name == "cpu" || name == "cuda", ConfigError, "--device: expected cpu or cuda, got '{}'", name);
  QSIM_CHECK(name == "cpu" || torch::cuda::is_available(), ConfigError,
             "--device cuda: no CUDA device visible or LibTorch built without CUDA (use --device cpu)");
  return torch::Device(name);
}

}  // namespace qsim::examples
