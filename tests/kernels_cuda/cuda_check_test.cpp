// QSIM_CUDA_CHECK: a failed CUDA call becomes a qsim::Error that names the
// statement, the file:line and CUDA's own error name and string. Needs no device.

#include <gtest/gtest.h>

#include "kernels/cuda/cuda_check.hpp"
#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace {

cudaError_t fail_with(cudaError_t error) { return error; }

TEST(CudaCheckTest, PassesSuccessThrough) { EXPECT_NO_THROW(QSIM_CUDA_CHECK(fail_with(cudaSuccess))); }

TEST(CudaCheckTest, ErrorNamesStatementLocationAndCudaError) {
  QSIM_EXPECT_THROW_MSG(QSIM_CUDA_CHECK(fail_with(cudaErrorInvalidValue)), qsim::Error,
                        {"fail_with(cudaErrorInvalidValue)", "cuda_check_test.cpp:", "cudaErrorInvalidValue",
                         "invalid argument"});
}

}  // namespace
