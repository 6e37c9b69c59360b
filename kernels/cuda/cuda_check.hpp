#pragma once

// QSIM_CUDA_CHECK(statement): runs a CUDA runtime call and throws qsim::Error if it
// failed, naming the statement, file:line and CUDA's error string. Every kernel
// launch is followed by QSIM_CUDA_CHECK(cudaGetLastError()).
// Host code only; usable from .cu and plain .cpp files.

#include <cuda_runtime_api.h>

namespace qsim::kernels::cuda::detail {

/// Throws qsim::Error("<statement>: <file>:<line>: <error name>: <error string>").
[[noreturn]] void raise_cuda_error(const char* statement, const char* file, int line, cudaError_t error);

}  // namespace qsim::kernels::cuda::detail

#define QSIM_CUDA_CHECK(statement)                                                           \
  do {                                                                                       \
    const cudaError_t qsim_cuda_error_ = (statement);                                        \
    if (qsim_cuda_error_ != cudaSuccess)                                                     \
      ::qsim::kernels::cuda::detail::raise_cuda_error(#statement, __FILE__, __LINE__, qsim_cuda_error_); \
  } while (false)
