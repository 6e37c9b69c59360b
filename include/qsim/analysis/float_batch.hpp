#pragma once

// What an analyzer's statistics pass reads: one calibration batch as contiguous
// float32 values, in host memory or on a CUDA device. EncodingAnalyzer::update_stats
// makes it from a tensor; the min/max and histogram passes run where the values are
// (kernels/cpu, or kernels/cuda on LibTorch's current stream).

#include <cstdint>

#include <c10/core/Device.h>

namespace qsim::analysis {

struct FloatBatch {
  const float* data = nullptr;  ///< `size` contiguous floats on `device`
  int64_t size = 0;
  c10::Device device = c10::Device(c10::kCPU);
};

}  // namespace qsim::analysis
