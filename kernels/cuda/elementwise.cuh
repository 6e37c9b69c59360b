#pragma once

// The launch driver shared by the elementwise fake-quant ops (nvcc only). An op is
//   struct Op {
//     struct Params {...};                            // one channel's grid, in registers
//     __device__ Params load(int64_t c) const;        // reads channel c's parameters
//     __device__ float apply(float a, float b, const Params& p) const;
//   };
// applied to out[i] = apply(a[i], b[i], load(channel(i))) over [begin, end) of a
// contiguous tensor seen as [outer, channels, inner] (b may be null: one input).
//
// Paths, chosen on the host:
//  * flat: a grid-stride loop over 128-bit packs (after a scalar head that brings
//    the pointers to 16 bytes, when all of them can get there together), then a
//    scalar tail. Per-tensor loads its parameters once per thread; per-channel
//    looks the channel up per element.
//  * rows: per-channel with long rows (inner ≥ kRowMin), e.g. a contiguous weight
//    with the channel outermost: blockIdx.y walks rows (= one channel each), so the
//    parameters are loaded once per row and the row streams in packs. One pass.

#include <cstdint>

#include "kernels/cpu/fake_quant_cpu.hpp"
#include "kernels/cuda/cuda_check.hpp"
#include "kernels/cuda/device_utils.cuh"

namespace qsim::kernels::cuda::detail {

using cpu::ChannelLayout;

/// Rows at least this long take the row path.
inline constexpr int64_t kRowMin = 256;

/// N elements of T loaded or stored with one instruction (16 or 32 bytes).
template <typename T, int N>
struct alignas(sizeof(T) * N) PackN {
  T v[N];
};

template <typename In, typename Out, typename Op, int N, bool kPerChannel>
__device__ __forceinline__ void apply_pack(const In* a, const In* b, Out* out, int64_t i, ChannelLayout layout,
                                           const Op& op, const typename Op::Params& tensor_params) {
  const PackN<In, N> va = *reinterpret_cast<const PackN<In, N>*>(a + i);
  PackN<In, N> vb{};
  if (b != nullptr) vb = *reinterpret_cast<const PackN<In, N>*>(b + i);
  PackN<Out, N> vo;
#pragma unroll
  for (int j = 0; j < N; ++j) {
    const typename Op::Params p = kPerChannel ? op.load((i + j) / layout.inner % layout.channels) : tensor_params;
    vo.v[j] = from_float<Out>(op.apply(to_float(va.v[j]), b != nullptr ? to_float(vb.v[j]) : 0.0f, p));
  }
  *reinterpret_cast<PackN<Out, N>*>(out + i) = vo;
}

template <typename In, typename Out, typename Op, bool kPerChannel>
__device__ __forceinline__ void apply_one(const In* a, const In* b, Out* out, int64_t i, ChannelLayout layout,
                                          const Op& op, const typename Op::Params& tensor_params) {
  const typename Op::Params p = kPerChannel ? op.load(i / layout.inner % layout.channels) : tensor_params;
  out[i] = from_float<Out>(op.apply(to_float(a[i]), b != nullptr ? to_float(b[i]) : 0.0f, p));
}

// Flat path: [begin, begin + head) and [vec_end, end) one by one, packs in between.
template <typename In, typename Out, typename Op, int N, bool kPerChannel>
__global__ void __launch_bounds__(kThreads) flat_kernel(const In* a, const In* b, Out* out, int64_t begin,
                                                         int64_t head, int64_t packs, int64_t end,
                                                         ChannelLayout layout, Op op) {
  const typename Op::Params tensor_params = kPerChannel ? typename Op::Params{} : op.load(0);
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t vec_begin = begin + head;
  for (int64_t k = first; k < packs; k += stride) {
    apply_pack<In, Out, Op, N, kPerChannel>(a, b, out, vec_begin + k * N, layout, op, tensor_params);
  }
  const int64_t vec_end = vec_begin + packs * N;
  const int64_t tail = end - vec_end;
  for (int64_t k = first; k < head + tail; k += stride) {
    const int64_t i = k < head ? begin + k : vec_end + (k - head);
    apply_one<In, Out, Op, kPerChannel>(a, b, out, i, layout, op, tensor_params);
  }
}

// Row path: rows [row_begin, row_end) of layout.inner elements; blockIdx.y walks the
// rows, blockIdx.x splits a row. `vectorized` when every row starts 16-byte aligned.
template <typename In, typename Out, typename Op, int N>
__global__ void __launch_bounds__(kThreads) row_kernel(const In* a, const In* b, Out* out, int64_t row_begin,
                                                        int64_t row_end, ChannelLayout layout, bool vectorized,
                                                        Op op) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t row = row_begin + blockIdx.y; row < row_end; row += gridDim.y) {
    const typename Op::Params p = op.load(row % layout.channels);
    const int64_t base = row * layout.inner;
    const int64_t packs = vectorized ? layout.inner / N : 0;
    for (int64_t k = first; k < packs; k += stride) {
      apply_pack<In, Out, Op, N, false>(a, b, out, base + k * N, layout, op, p);
    }
    for (int64_t k = packs * N + first; k < layout.inner; k += stride) {
      apply_one<In, Out, Op, false>(a, b, out, base + k, layout, op, p);
    }
  }
}

template <typename T, int N>
inline bool pack_aligned(const T* p) {
  return p == nullptr || reinterpret_cast<std::uintptr_t>(p) % (sizeof(T) * N) == 0;
}

/// Runs op over [begin, end) on `stream`: picks the row or flat path, vectorizes
/// where alignment allows. `b` may be null.
template <typename In, typename Out, typename Op>
void launch_elementwise(const In* a, const In* b, Out* out, int64_t begin, int64_t end, ChannelLayout layout,
                        const Op& op, cudaStream_t stream) {
  constexpr int N = kPack<In>;
  if (end <= begin) return;
  const bool per_channel = layout.channels > 1;
  const bool whole_rows = begin % layout.inner == 0 && end % layout.inner == 0;
  if (per_channel && layout.inner >= kRowMin && whole_rows) {
    const bool vectorized = layout.inner % N == 0 && pack_aligned<In, N>(a) && pack_aligned<In, N>(b) &&
                            pack_aligned<Out, N>(out);
    const int64_t rows = (end - begin) / layout.inner;
    const int64_t grid_y = rows < 65535 ? rows : 65535;
    int64_t grid_x = blocks_for((layout.inner + N - 1) / N);
    const int64_t budget = kMaxBlocks / grid_y;
    grid_x = grid_x < budget ? grid_x : (budget < 1 ? 1 : budget);
    row_kernel<In, Out, Op, N><<<dim3(static_cast<unsigned>(grid_x), static_cast<unsigned>(grid_y)), kThreads, 0,
                                 stream>>>(a, b, out, begin / layout.inner, end / layout.inner, layout, vectorized,
                                           op);
    QSIM_CUDA_CHECK(cudaGetLastError());
    return;
  }
  // Scalar head so that every pointer reaches its pack alignment at the same index
  // (per-channel packs look the channel up per element, so they may span two).
  int64_t head = head_to_alignment(a + begin);
  const bool can_vectorize = head >= 0 && head < end - begin &&
                             pack_aligned<In, N>(b == nullptr ? nullptr : b + begin + head) &&
                             pack_aligned<Out, N>(out + begin + head);
  if (!can_vectorize) head = end - begin;
  const int64_t packs = (end - begin - head) / N;
  const int64_t blocks = blocks_for(packs > 0 ? packs : end - begin);
  if (per_channel) {
    flat_kernel<In, Out, Op, N, true><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        a, b, out, begin, head, packs, end, layout, op);
  } else {
    flat_kernel<In, Out, Op, N, false><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        a, b, out, begin, head, packs, end, layout, op);
  }
  QSIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace qsim::kernels::cuda::detail
