#include "kernels/cuda/cuda_check.hpp"

#include <fmt/format.h>

#include "qsim/error.hpp"

namespace qsim::kernels::cuda::detail {

void raise_cuda_error(const char* statement, const char* file, int line, cudaError_t error) {
  throw Error(fmt::format("{}: {}:{}: {}: {}", statement, file, line, cudaGetErrorName(error),
                          cudaGetErrorString(error)));
}

}  // namespace qsim::kernels::cuda::detail
