# Resolves QSIM_WITH_CUDA (AUTO|ON|OFF) into QSIM_CUDA_ENABLED: the library
# dispatches CUDA tensors to kernels/cuda only with nvcc *and* a CUDA LibTorch.
include(CheckLanguage)
option(QSIM_BUILD_CUDA_KERNELS
  "Build the torch-free CUDA kernel library and its parity test whenever nvcc is found" ON)

# Architectures: defaulted only when the user (or CUDAARCHS) set none, and before
# the CUDA language is enabled anywhere.
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  set(CMAKE_CUDA_ARCHITECTURES
    80  # sm_80: A100, the oldest data-centre GPU with native BF16 and async copies
    90  # sm_90: H100 / H200, the GPUs the benchmarks are recorded on
    CACHE STRING "CUDA architectures for the qsim kernels")
endif()

set(QSIM_CUDA_ENABLED OFF)
if(NOT QSIM_WITH_CUDA STREQUAL "OFF")
  set(_why "")
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    set(_why "no CUDA compiler (nvcc) found")
  elseif(NOT QSIM_WITH_TORCH)
    set(_why "QSIM_WITH_TORCH is OFF")
  elseif(NOT TORCH_CUDA_LIBRARIES AND NOT TARGET torch_cuda)
    set(_why "the LibTorch found (${Torch_DIR}) is built without CUDA")
  else()
    set(QSIM_CUDA_ENABLED ON)
  endif()
  if(QSIM_WITH_CUDA STREQUAL "ON" AND NOT QSIM_CUDA_ENABLED)
    message(FATAL_ERROR "QSIM_WITH_CUDA=ON but ${_why}")
  endif()
  if(NOT QSIM_CUDA_ENABLED)
    message(STATUS "qsim: CUDA dispatch off (${_why})")
  endif()
endif()
message(STATUS "qsim: CUDA dispatch: ${QSIM_CUDA_ENABLED}")

# QSIM_CUDA_KERNELS: independent of the dispatch decision above, nvcc alone builds
# qsim_kernels_cuda (raw pointers, no LibTorch) and its parity test, so a machine
# with no GPU and a CPU LibTorch still compiles and links every kernel. Sanitized
# builds leave them out (nvcc objects and the CUDA runtime are not instrumented).
set(QSIM_CUDA_KERNELS OFF)
if(QSIM_CUDA_ENABLED OR (QSIM_BUILD_CUDA_KERNELS AND NOT QSIM_SANITIZE))
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(QSIM_CUDA_KERNELS ON)
  endif()
endif()
message(STATUS "qsim: CUDA kernels: ${QSIM_CUDA_KERNELS} (architectures: ${CMAKE_CUDA_ARCHITECTURES})")
