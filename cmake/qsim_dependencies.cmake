# Every third-party dependency is found here, once, from Debian's packages
# (scripts/setup.sh installs them).
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(PkgConfig REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)  # its CMake config wants libzip-tools

if(QSIM_WITH_TORCH)
  find_package(Torch REQUIRED)
  # Link the imported targets (not TORCH_LIBRARIES, which holds absolute paths) so
  # that the installed package stays relocatable.
  set(QSIM_TORCH_TARGETS torch c10)
  # The OpenMP runtime LibTorch and an OpenMP BLAS share. Every layer that calls
  # at::parallel_for must compile with it (the template's OpenMP region is in the
  # header: without the flags it silently runs on one thread), and nn's
  # thread-invariant GEMMs make single BLAS calls single-threaded through it.
  find_package(OpenMP COMPONENTS CXX)
  # oneDNN (Debian's libdnnl-dev, the library Debian's LibTorch links): its sgemm
  # computes nn's thread-invariant GEMM blocks with the kernels of the CPU it runs on
  # (AVX-512 here), whatever kernels the BLAS was pinned to. Without it: ATen's BLAS.
  find_package(dnnl CONFIG QUIET)
  if(dnnl_FOUND)
    message(STATUS "qsim: oneDNN ${dnnl_VERSION}: nn's GEMM blocks on dnnl_sgemm")
  else()
    message(STATUS "qsim: no oneDNN (libdnnl-dev): nn's GEMM blocks on ATen's BLAS")
  endif()
endif()

# The deploy layer (ONNX export) is built on ONNX's own C++ library: Debian's
# libonnx-dev, the same libonnx that Debian's LibTorch links, and protobuf.
set(QSIM_DEPLOY_ENABLED OFF)
if(QSIM_WITH_TORCH AND NOT QSIM_WITH_ONNX STREQUAL "OFF")
  if(QSIM_WITH_ONNX STREQUAL "ON")
    set(_qsim_onnx_required REQUIRED)
  endif()
  find_package(Protobuf ${_qsim_onnx_required})
  if(Protobuf_FOUND)
    find_package(ONNX ${_qsim_onnx_required})
  endif()
  if(Protobuf_FOUND AND ONNX_FOUND)
    set(QSIM_DEPLOY_ENABLED ON)
  else()
    message(STATUS "qsim: no ONNX (libonnx-dev, libprotobuf-dev): the deploy layer is not built")
  endif()
endif()

if(QSIM_BUILD_EXAMPLES)
  find_package(CLI11 REQUIRED)
endif()
if(QSIM_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(QSIM_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
