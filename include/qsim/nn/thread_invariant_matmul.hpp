#pragma once

// Matrix products whose bits do not depend on the number of CPU threads.
//
// A threaded BLAS sgemm (OpenBLAS, Debian's default) splits the output among its
// threads, and the split changes the kernel that computes each element, so the
// same product differs in the last bits between 1, 2 and 3 threads. These
// functions split the rows of the output into equal blocks of at most kRowBlock rows
// (a split that depends only on the shapes), run the blocks in parallel, and compute
// each block with a single-threaded BLAS call: the result is the same for any
// thread count. Cost on 2 cores (docs/benchmarks.md, 256-row blocks): the BERT-base
// projections at ATen's time (0.95-1.0x), the batched attention products 0.3x.
//
// They take this path for float CPU tensors when autograd is not recording (eval,
// calibration); otherwise, and for other devices and dtypes, they are at::matmul
// and at::linear. Training gradients (ATen's GEMM and LayerNorm backward) still
// depend on the thread count; see docs/reliability.md.

#include <cstdint>

#include <torch/types.h>

#include "qsim/quant/prepared_fake_quant.hpp"

namespace qsim::nn {

/// Most rows of the output computed by one single-threaded BLAS call: four tasks for the
/// 1024 tokens of a batch of 8 × 128, big enough panels for OpenBLAS (64-row
/// blocks cost the projections 13-25 %; 512 rows would gain ~3 % more on 2 cores
/// but leave wider machines idle).
inline constexpr int64_t kRowBlock = 256;

/// at::matmul(a, b) for a [..., M, K] and b [K, N] or b [..., K, N] with the same
/// leading dimensions; other shapes go to at::matmul unchanged. With an
/// `epilogue` (a fused output quantizer prepared for the result's shape, float32),
/// the result comes back quantized: each row block right after its GEMM, or the
/// whole result after at::matmul on the fallback path.
torch::Tensor thread_invariant_matmul(const torch::Tensor& a, const torch::Tensor& b,
                                      const quant::PreparedFakeQuant* epilogue = nullptr);

/// at::linear(x, weight, bias): x [..., K], weight [N, K], bias [N] or undefined;
/// `epilogue` as above.
torch::Tensor thread_invariant_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                      const quant::PreparedFakeQuant* epilogue = nullptr);

/// True when thread_invariant_* take the blocked path for these operands (for tests).
bool takes_thread_invariant_path(const torch::Tensor& a, const torch::Tensor& b);

/// While one lives, thread_invariant_* are at::matmul / at::linear on this thread.
/// For a forward computed without autograd that backward will recompute with
/// autograd (gradient checkpointing): both passes must take the same path, or the
/// recomputed activations differ from the ones the rest of the graph consumed.
class AtenProductsGuard {
 public:
  AtenProductsGuard();
  ~AtenProductsGuard();
  AtenProductsGuard(const AtenProductsGuard&) = delete;
  AtenProductsGuard& operator=(const AtenProductsGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace qsim::nn
