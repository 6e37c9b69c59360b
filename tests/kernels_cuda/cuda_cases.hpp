#pragma once

// The shapes, views and inputs every CUDA parity test runs over: per-tensor sizes
// that are not multiples of the vector width, views misaligned by 1–3 elements
// (input and output shifted differently too), per-channel along every axis of two
// shapes (long rows take the row path, short ones the flat path), and inputs with
// ties, grid points, range ends, out-of-range values, ±0, NaN, ±Inf, denormals.

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <gtest/gtest.h>

#include "kernels/cpu/fake_quant_cpu.hpp"

namespace qsim::test::cuda {

enum class DType { f32, f16, bf16 };

inline const char* name_of(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
  }
  return "?";
}

/// One shape/view; every test runs it for each of F32, F16 and BF16.
struct Case {
  std::vector<int64_t> shape;
  int axis = -1;           ///< −1: per-tensor
  int64_t shift_in = 0;    ///< element offset of the input view(s)
  int64_t shift_out = 0;   ///< element offset of the output view

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  kernels::cpu::ChannelLayout layout() const {
    if (axis < 0) return {1, 1};
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis) + 1; d < shape.size(); ++d) inner *= shape[d];
    return {shape[static_cast<size_t>(axis)], inner};
  }
  std::string name() const {
    std::string s = "shape";
    for (size_t d = 0; d < shape.size(); ++d) s += (d ? "x" : "") + std::to_string(shape[d]);
    s += axis < 0 ? std::string("_tensor") : "_axis" + std::to_string(axis);
    s += "_in" + std::to_string(shift_in) + "_out" + std::to_string(shift_out);
    return s;
  }
};

inline std::string case_name(const testing::TestParamInfo<Case>& info) { return info.param.name(); }
inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name(); }

inline constexpr DType kDTypes[] = {DType::f32, DType::f16, DType::bf16};

/// Calls Check<T>::run(args...) for T = float, __half, __nv_bfloat16, each under a trace.
template <template <typename> class Check, typename... Args>
void for_each_dtype(Args&&... args) {
  for (DType t : kDTypes) {
    SCOPED_TRACE(name_of(t));
    switch (t) {
      case DType::f32: Check<float>::run(args...); break;
      case DType::f16: Check<__half>::run(args...); break;
      case DType::bf16: Check<__nv_bfloat16>::run(args...); break;
    }
  }
}

/// Sizes around the vector widths, misaligned views (input and output shifted
/// differently too), per-channel along every axis.
inline std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int64_t n : {0, 1, 3, 5, 8, 9, 17, 4099, (1 << 20) + 3}) cases.push_back({{n}, -1, 0, 0});
  for (auto shifts : {std::pair<int64_t, int64_t>{1, 1}, {3, 3}, {1, 2}, {0, 3}, {2, 0}}) {
    for (int64_t n : {5, 65536 + 7}) cases.push_back({{n}, -1, shifts.first, shifts.second});
  }
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3, 5, 4, 300}, std::vector<int64_t>{7, 9, 11}}) {
    for (int axis = 0; axis < static_cast<int>(shape.size()); ++axis) {
      cases.push_back({shape, axis, 0, 0});
      cases.push_back({shape, axis, 1, 1});
      cases.push_back({shape, axis, 0, 2});
    }
  }
  return cases;
}

/// One channel's grid as the input generator sees it.
struct GridView {
  float delta;
  float offset;
  float steps;
};

/// Adversarial and random inputs for each element's channel grid.
inline std::vector<float> make_inputs(int64_t n, kernels::cpu::ChannelLayout layout,
                                      const std::vector<GridView>& grids, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            0.0f,
                            -0.0f,
                            1e-40f,
                            -1e-40f,
                            FLT_MAX,
                            -FLT_MAX};
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const GridView& g = grids[static_cast<size_t>(i / layout.inner % layout.channels)];
    const float lo = g.offset * g.delta;
    const float hi = (g.steps + g.offset) * g.delta;
    const float span = hi - lo;
    const float k = std::floor(unit(rng) * (g.steps + 1.0f));
    const float pick = unit(rng);
    float v;
    if (pick < 0.40f) {
      v = lo - 0.3f * span + 1.6f * span * unit(rng);  // in range and a bit beyond
    } else if (pick < 0.55f) {
      v = (k + 0.5f + g.offset) * g.delta;  // ties (exactly, where float allows)
    } else if (pick < 0.65f) {
      v = (k + g.offset) * g.delta;  // grid points
    } else if (pick < 0.70f) {
      v = unit(rng) < 0.5f ? lo : hi;
    } else if (pick < 0.75f) {
      v = specials[static_cast<size_t>(unit(rng) * 9.0f) % 9];
    } else {
      v = (unit(rng) - 0.5f) * 20.0f * span;  // far out of range
    }
    x[static_cast<size_t>(i)] = v;
  }
  return x;
}

}  // namespace qsim::test::cuda
