#pragma once

// Support for the CUDA parity tests: device detection (skip only without a GPU),
// RAII device buffers, host-side F16/BF16 conversion, and the grids both devices
// are fed with. Plain C++ with the CUDA runtime API; no LibTorch.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include "kernels/cpu/fake_quant_cpu.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "support/require_cuda.hpp"

namespace qsim::test::cuda {

/// Empty when a usable device is present, else why not. A driver that is installed
/// but too old is an error, not "no device"; QSIM_REQUIRE_CUDA=1 (set by
/// scripts/gpu-check.sh) turns every absence into a failure.
inline std::string no_device_reason() {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  int driver = 0;
  cudaDriverGetVersion(&driver);
  if (error == cudaErrorNoDevice || (error == cudaSuccess && count == 0)) return "no CUDA device";
  if (error == cudaErrorInsufficientDriver && driver == 0) return "no CUDA driver (no GPU on this machine)";
  return "";
}

/// Skips (or fails under QSIM_REQUIRE_CUDA=1) when there is no device; fails on
/// any other CUDA error.
#define QSIM_REQUIRE_DEVICE()                                                          \
  do {                                                                                 \
    QSIM_SKIP_WITHOUT_CUDA(::qsim::test::cuda::no_device_reason());                    \
    int qsim_count_ = 0;                                                               \
    ASSERT_EQ(cudaGetDeviceCount(&qsim_count_), cudaSuccess);                          \
  } while (false)

/// A cudaMalloc'd array of T with a few spare elements in front, so that views
/// at any element offset (misaligned by 1, 2, 3 elements) can be taken.
template <typename T>
class DeviceArray {
 public:
  static constexpr int64_t kSlack = 8;
  explicit DeviceArray(int64_t n) : n_(n) {
    QSIM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&base_), static_cast<size_t>(n + kSlack) * sizeof(T)));
    QSIM_CUDA_CHECK(cudaMemset(base_, 0, static_cast<size_t>(n + kSlack) * sizeof(T)));
  }
  DeviceArray(DeviceArray&& other) noexcept : n_(other.n_), base_(other.base_) { other.base_ = nullptr; }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray& operator=(DeviceArray&&) = delete;
  ~DeviceArray() {
    if (base_ != nullptr) cudaFree(base_);
  }

  /// The view starting `shift` elements after the (256-byte aligned) allocation.
  T* at(int64_t shift = 0) const { return base_ + shift; }

  void upload(const std::vector<T>& host, int64_t shift = 0) {
    QSIM_CUDA_CHECK(cudaMemcpy(at(shift), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> download(int64_t count, int64_t shift = 0) const {
    std::vector<T> host(static_cast<size_t>(count));
    QSIM_CUDA_CHECK(cudaMemcpy(host.data(), at(shift), host.size() * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  int64_t n_;
  T* base_ = nullptr;
};

template <typename T>
DeviceArray<T> to_device(const std::vector<T>& host) {
  DeviceArray<T> d(static_cast<int64_t>(host.size()));
  d.upload(host);
  return d;
}

// Element conversions on the host; narrowing rounds to nearest even like the kernels.
inline float to_float(float v) { return v; }
inline float to_float(__half v) { return __half2float(v); }
inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }

template <typename T>
T from_float(float v);
template <>
inline float from_float<float>(float v) { return v; }
template <>
inline __half from_float<__half>(float v) { return __float2half_rn(v); }
template <>
inline __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

template <typename T>
std::vector<T> convert(const std::vector<float>& v) {
  std::vector<T> out;
  out.reserve(v.size());
  for (float f : v) out.push_back(from_float<T>(f));
  return out;
}

template <typename T>
std::vector<float> widen(const std::vector<T>& v) {
  std::vector<float> out;
  out.reserve(v.size());
  for (T e : v) out.push_back(to_float(e));
  return out;
}

/// Bit pattern of an element, for exact comparison (NaN == NaN, −0 ≠ +0).
template <typename T>
uint32_t bits(T v) {
  uint32_t b = 0;
  static_assert(sizeof(T) <= sizeof(b));
  std::memcpy(&b, &v, sizeof(T));
  return b;
}

/// Per-channel grid parameters as host vectors (structure of arrays).
struct StaticParams {
  std::vector<float> lo, hi, delta, offset;
};

/// Semantics §2 fillQuantizeInfo in double, then f32: gate, strict-symmetric
/// detection by exact equality, Δ = (hi − lo)/N, o = round_away(lo/Δ).
inline void add_static_channel(StaticParams& p, double min, double max, int bitwidth) {
  double lo = std::min(min, 0.0);
  double hi = std::max(max, 0.0);
  hi = std::max(hi, lo + 1e-5);
  double steps = std::ldexp(1.0, bitwidth) - 1.0;
  if (lo == -hi) steps -= 1.0;
  const double delta = (hi - lo) / steps;
  p.lo.push_back(static_cast<float>(lo));
  p.hi.push_back(static_cast<float>(hi));
  p.delta.push_back(static_cast<float>(delta));
  p.offset.push_back(static_cast<float>(std::round(lo / delta)));
}

struct LearnedParams {
  std::vector<float> delta, inv_delta, offset;
};

/// Semantics §5.3 asymmetric grid in float: Δ = (M − m)/N, o = −clamp(round_even(−m/Δ), 0, N).
inline void add_learned_channel(LearnedParams& p, float m, float big_m, float steps) {
  const float delta = (big_m - m) / steps;
  float z = std::nearbyint(-m / delta);
  z = std::min(std::max(z, 0.0f), steps);
  p.delta.push_back(delta);
  p.inv_delta.push_back(1.0f / delta);
  p.offset.push_back(-z);
}

}  // namespace qsim::test::cuda
