#include "kernels/cuda/static_ste_backward.cuh"

#include "kernels/cuda/elementwise.cuh"
#include "kernels/fake_quant_scalar.hpp"

namespace qsim::kernels::cuda {
namespace {

struct SteOp {
  const float* min;
  const float* max;
  struct Params {
    float min, max;
  };
  __device__ Params load(int64_t c) const { return {min[c], max[c]}; }
  __device__ float apply(float y, float g, const Params& p) const { return static_ste_grad(y, g, p.min, p.max); }
};

template <typename T>
void run(const T* y, const T* g, T* gi, int64_t begin, int64_t end, ChannelLayout layout, const float* min,
         const float* max, cudaStream_t stream) {
  detail::launch_elementwise<T, T>(y, g, gi, begin, end, layout, SteOp{min, max}, stream);
}

}  // namespace

void static_ste_backward(const float* y, const float* g, float* gi, int64_t begin, int64_t end,
                         ChannelLayout layout, const float* min, const float* max, cudaStream_t stream) {
  run(y, g, gi, begin, end, layout, min, max, stream);
}
void static_ste_backward(const __half* y, const __half* g, __half* gi, int64_t begin, int64_t end,
                         ChannelLayout layout, const float* min, const float* max, cudaStream_t stream) {
  run(y, g, gi, begin, end, layout, min, max, stream);
}
void static_ste_backward(const __nv_bfloat16* y, const __nv_bfloat16* g, __nv_bfloat16* gi, int64_t begin,
                         int64_t end, ChannelLayout layout, const float* min, const float* max,
                         cudaStream_t stream) {
  run(y, g, gi, begin, end, layout, min, max, stream);
}

}  // namespace qsim::kernels::cuda
