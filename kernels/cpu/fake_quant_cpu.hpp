#pragma once

// CPU fake-quant loops (quantization-semantics.md §2, §5), free of LibTorch: raw
// float pointers and int64_t counts, so they run under sanitizers and the quant
// layer can validate once and split work into chunks (at::parallel_for).
//
// Every function processes the flat element range [begin, end) of a contiguous
// tensor seen as [outer, channels, inner]; element i belongs to channel
// (i / inner) % channels. Per-tensor is channels = 1. Parameters are arrays of
// `channels` floats (structure of arrays). Results do not depend on how the range
// is split: the forward is elementwise, and the backward's sums are added to the
// caller's per-channel accumulators in a fixed order within one call.
// The AVX2 path (and, for the static and learned forwards, an AVX-512 path) is
// chosen at run time (never required at build time) and is bit-identical to the
// scalar path of kernels/fake_quant_scalar.hpp.

#include <cstdint>

namespace qsim::kernels::cpu {

struct ChannelLayout {
  int64_t channels = 1;
  int64_t inner = 1;
};

/// Static grid (§2) parameters per channel: f32 of the gated lo/hi, Δ and o.
struct StaticGrid {
  const float* lo = nullptr;
  const float* hi = nullptr;
  const float* delta = nullptr;
  const float* offset = nullptr;
};

/// Learned grid (§5.3) parameters per channel; `steps` (N) is shared. With
/// `multiply` the scaled input is x·inv_delta (PyTorch's convention), else x/Δ.
struct LearnedGrid {
  const float* delta = nullptr;
  const float* inv_delta = nullptr;
  const float* offset = nullptr;
  float steps = 255.0f;
  bool multiply = false;
};

/// y = Δ·(q + o) on the static grid.
void static_forward(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid);

/// y = q − shift[c]: the static float-path codes (shift 2^(b−1) for signed codes,
/// 0 for unsigned). No integer clamp, so out-of-grid codes (−1, N+1) show.
void static_codes(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, StaticGrid grid,
                  const float* shift);

/// gi = g·[min[c] ≤ y ≤ max[c]], the static-grid straight-through gradient (§2).
void static_ste_backward(const float* y, const float* g, float* gi, int64_t begin, int64_t end,
                         ChannelLayout layout, const float* min, const float* max);

/// y = (clamp(round_even(t) − o, 0, N) + o)·Δ on the learned grid.
void learned_forward(const float* x, float* y, int64_t begin, int64_t end, ChannelLayout layout, LearnedGrid grid);

/// One pass of the range-learning backward (§5.4): writes gi = g·k and adds, per
/// channel c, in double:
///   sum_s[c] += Σ (q + (offset_in_sum ? o : 0) − k·t)·g,   sum_z[c] += Σ (1 − k)·g.
/// The quant layer turns these into dL/dmin and dL/dmax for each mode.
void learned_backward(const float* x, const float* g, float* gi, int64_t begin, int64_t end, ChannelLayout layout,
                      LearnedGrid grid, bool offset_in_sum, double* sum_s, double* sum_z);

/// Whether the AVX2 loops run (the CPU supports them and no test switched them off).
bool avx2_active();
/// Test hook: false forces the scalar loops; true re-enables AVX2 where supported.
void set_avx2_enabled(bool enabled);
/// Whether the static and learned forwards run their AVX-512 loops (AVX2 active, the
/// CPU has AVX-512F and no test switched them off); bit-identical to the AVX2 loops.
bool avx512_active();
/// Test hook: false keeps those forwards on AVX2; true re-enables AVX-512 where supported.
void set_avx512_enabled(bool enabled);

}  // namespace qsim::kernels::cpu
