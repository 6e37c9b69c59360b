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
#
# CMake <= 3.25.1's FindCUDAToolkit tags CUDA::nvToolsExt as deprecated without
# checking that the target exists, a configure error when the project requires
# >= 3.25 and the toolkit no longer ships nvToolsExt (CUDA 12.9+). Debian 12's
# stock cmake is 3.25.1; the tag is skipped for a lower required version.
macro(qsim_find_cuda_toolkit)
  if(CMAKE_VERSION VERSION_LESS 3.25.2)
    set(_qsim_required ${CMAKE_MINIMUM_REQUIRED_VERSION})
    set(CMAKE_MINIMUM_REQUIRED_VERSION 3.24)
    find_package(CUDAToolkit REQUIRED)
    set(CMAKE_MINIMUM_REQUIRED_VERSION ${_qsim_required})
  else()
    find_package(CUDAToolkit REQUIRED)
  endif()
endmacro()

set(QSIM_CUDA_KERNELS OFF)
if(QSIM_CUDA_ENABLED OR (QSIM_BUILD_CUDA_KERNELS AND NOT QSIM_SANITIZE))
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    enable_language(CUDA)
    qsim_find_cuda_toolkit()
    set(QSIM_CUDA_KERNELS ON)
  endif()
endif()
message(STATUS "qsim: CUDA kernels: ${QSIM_CUDA_KERNELS} (architectures: ${CMAKE_CUDA_ARCHITECTURES})")

# The CUDA glue of the quant and analysis layers (src/*/cuda/*.cpp): plain C++ on
# ATen types, c10/cuda's current stream and device guard, and kernels/cuda.
# With dispatch on, each layer builds <name>.cpp and links kernels/cuda, c10_cuda
# and the CUDA runtime; otherwise it builds <name>_unavailable.cpp (which throws).
if(QSIM_CUDA_ENABLED)
  find_library(QSIM_C10_CUDA_LIBRARY c10_cuda HINTS "${TORCH_INSTALL_PREFIX}/lib" REQUIRED)
endif()

# qsim_cuda_glue_source(<out-var> <path without .cpp>)
function(qsim_cuda_glue_source out stem)
  if(QSIM_CUDA_ENABLED)
    set(${out} ${stem}.cpp PARENT_SCOPE)
  else()
    set(${out} ${stem}_unavailable.cpp PARENT_SCOPE)
  endif()
endfunction()

# qsim_link_cuda_glue(<layer target>)
function(qsim_link_cuda_glue target)
  if(QSIM_CUDA_ENABLED)
    target_link_libraries(${target} PRIVATE qsim::kernels_cuda ${QSIM_C10_CUDA_LIBRARY} CUDA::cudart)
  endif()
endfunction()

# qsim_cuda_glue_compile_check(<sources...>): in a build that has nvcc but a CPU
# LibTorch (CI, every developer machine without a GPU) the glue is not part of the
# library, so it is compiled here on its own, warnings as errors, against the c10/cuda
# headers that every LibTorch ships and the CUDA toolkit's: a compile error in it
# fails the build. (Not linked: c10_cuda exists only in a CUDA LibTorch.)
function(qsim_cuda_glue_compile_check)
  if(QSIM_CUDA_ENABLED OR NOT QSIM_CUDA_KERNELS OR NOT QSIM_WITH_TORCH)
    return()
  endif()
  add_library(qsim_cuda_glue_check OBJECT ${ARGN})
  target_link_libraries(qsim_cuda_glue_check PRIVATE qsim::analysis qsim::kernels_cuda CUDA::cudart)
  target_include_directories(qsim_cuda_glue_check PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  # A CPU LibTorch leaves out c10/cuda's generated export-macro header; its content
  # only matters on Windows.
  target_compile_definitions(qsim_cuda_glue_check PRIVATE C10_CUDA_NO_CMAKE_CONFIGURE_FILE)
  qsim_enable_warnings(qsim_cuda_glue_check)
  message(STATUS "qsim: CUDA glue: compile check only (no CUDA LibTorch)")
endfunction()
