#include "qsim/nn/thread_invariant_matmul.hpp"

#include <algorithm>
#include <optional>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "qsim/quant/output_pool.hpp"

#ifdef QSIM_HAVE_OPENMP
#include <omp.h>
#endif
#ifdef QSIM_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace qsim::nn {
namespace {

#ifdef QSIM_HAVE_OPENMP
constexpr bool kCanPinBlas = true;
// OpenMP BLAS builds size their thread team from the calling thread's nthreads
// setting: 1 makes the call single-threaded. Restored on exit so that ATen's
// own get_num_threads() is unchanged for the caller.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SingleThreadedBlas() { omp_set_num_threads(saved_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_;
};
#else
constexpr bool kCanPinBlas = false;  // no way to make the BLAS call single-threaded: plain ATen
struct SingleThreadedBlas {};
#endif

// How M rows split into blocks: as few as blocks of at most kRowBlock rows allow, of
// equal size (rounded up to 8 rows) so that no thread waits on a full block while
// another finishes a sliver (800 packed tokens: 4 x 200, not 3 x 256 + 32). It
// depends on M alone, so results stay thread-invariant.
struct RowBlocks {
  int64_t count, rows;
};
RowBlocks row_blocks(int64_t rows) {
  const int64_t count = (rows + kRowBlock - 1) / kRowBlock;
  const int64_t even = (rows + count - 1) / count;
  const int64_t size = std::min(kRowBlock, (even + 7) / 8 * 8);
  return {(rows + size - 1) / size, size};
}

#ifdef QSIM_HAVE_DNNL
// A 2-D operand as sgemm takes it: row-major with unit column stride ('N'), or the
// transpose of such a matrix ('T'); empty when neither (the caller copies).
struct GemmOperand {
  char trans = 'N';
  int64_t ld = 0;
};
std::optional<GemmOperand> gemm_operand(const at::Tensor& m) {
  const int64_t rows = m.size(0), cols = m.size(1);
  if ((m.stride(1) == 1 || cols == 1) && m.stride(0) >= std::max<int64_t>(1, cols)) return GemmOperand{'N', m.stride(0)};
  if ((m.stride(0) == 1 || rows == 1) && m.stride(1) >= std::max<int64_t>(1, rows)) return GemmOperand{'T', m.stride(1)};
  return std::nullopt;
}

// block = lhs · right (+ bias): oneDNN's sgemm, whose JIT kernels follow the CPU it
// runs on (AVX2, AVX-512, AMX) rather than the ones a BLAS build was pinned to; one
// thread (the caller's OpenMP setting is 1), so the bits depend on the shapes alone.
void gemm_block(const at::Tensor& lhs_in, const at::Tensor& right_in, const at::Tensor& bias, at::Tensor& block) {
  const at::Tensor lhs = gemm_operand(lhs_in) ? lhs_in : lhs_in.contiguous();
  const at::Tensor right = gemm_operand(right_in) ? right_in : right_in.contiguous();
  const GemmOperand a = *gemm_operand(lhs), b = *gemm_operand(right);
  float beta = 0.0f;
  if (bias.defined()) {
    block.copy_(bias.expand_as(block));
    beta = 1.0f;
  }
  const dnnl_status_t status =
      dnnl_sgemm(a.trans, b.trans, lhs.size(0), right.size(1), lhs.size(1), 1.0f, lhs.data_ptr<float>(), a.ld,
                 right.data_ptr<float>(), b.ld, beta, block.data_ptr<float>(), block.stride(0));
  TORCH_CHECK(status == dnnl_success, "qsim: oneDNN sgemm failed with status ", static_cast<int>(status));
}
#else
void gemm_block(const at::Tensor& lhs, const at::Tensor& right, const at::Tensor& bias, at::Tensor& block) {
  if (bias.defined()) {
    at::addmm_out(block, bias, lhs, right);
  } else {
    at::mm_out(block, lhs, right);
  }
}
#endif

// out[i] = a[i] · rhs[i] (rhs 3-D) or a[i] · rhs (rhs 2-D), plus bias, for a [B, M, K],
// one single-threaded GEMM per row block (row_blocks) of one batch entry; with an
// epilogue, each block is quantized in place right after its GEMM (still in cache).
void blocked_gemm(const at::Tensor& a, const at::Tensor& rhs, const at::Tensor& bias, at::Tensor& out,
                  const quant::PreparedFakeQuant* epilogue) {
  const int64_t rows = a.size(1);
  const RowBlocks layout = row_blocks(rows);
  const int64_t blocks = layout.count, block_rows = layout.rows;  // plain locals: lambdas capture them
  // Grad and inference mode are thread-local: pool threads start with grad mode on
  // and InferenceMode off, and writing into an inference tensor `out` outside
  // InferenceMode throws. The workers take the caller's state, and never record.
  const at::ThreadLocalState caller_state;
  at::parallel_for(0, a.size(0) * blocks, 1, [&](int64_t begin, int64_t end) {
    const at::ThreadLocalStateGuard caller_modes(caller_state);
    const SingleThreadedBlas pin;
    const at::NoGradGuard no_grad;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t batch = task / blocks, first = (task % blocks) * block_rows;
      const int64_t count = std::min(block_rows, rows - first);
      at::Tensor block = out[batch].narrow(0, first, count);
      const at::Tensor lhs = a[batch].narrow(0, first, count);
      const at::Tensor right = rhs.dim() == 2 ? rhs : rhs[batch];
      gemm_block(lhs, right, bias, block);
      if (epilogue != nullptr) {
        const int64_t begin = (batch * rows + first) * out.size(2);
        epilogue->apply(out.data_ptr<float>(), begin, begin + count * out.size(2));
      }
    }
  });
}

// `lhs` viewed as [B, M, K] times rhs ([K, N] or [B, K, N]) plus bias, shaped
// like `lhs` with its last dimension N.
at::Tensor blocked_product(const at::Tensor& lhs, const at::Tensor& a3, const at::Tensor& rhs, const at::Tensor& bias,
                           const quant::PreparedFakeQuant* epilogue) {
  const int64_t cols = rhs.size(-1);
  at::Tensor out = quant::pooled_empty({a3.size(0), a3.size(1), cols}, lhs.scalar_type());
  blocked_gemm(a3, rhs, bias, out, epilogue);
  std::vector<int64_t> shape = lhs.sizes().vec();
  shape.back() = cols;
  return out.view(shape);
}

thread_local bool aten_products_forced = false;

bool eligible(const at::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == at::kFloat && t.layout() == at::kStrided;
}

bool same_leading_dims(const at::Tensor& a, const at::Tensor& b) {
  return b.dim() == 2 || (a.dim() == b.dim() && a.sizes().slice(0, a.dim() - 2) == b.sizes().slice(0, b.dim() - 2));
}

}  // namespace

AtenProductsGuard::AtenProductsGuard() : previous_(aten_products_forced) { aten_products_forced = true; }
AtenProductsGuard::~AtenProductsGuard() { aten_products_forced = previous_; }

bool takes_thread_invariant_path(const torch::Tensor& a, const torch::Tensor& b) {
  const bool recording = torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
  return kCanPinBlas && !recording && !aten_products_forced && eligible(a) && eligible(b) && a.dim() >= 2 && b.dim() >= 2 &&
         a.size(-1) == b.size(-2) && same_leading_dims(a, b) && a.numel() > 0 && b.numel() > 0;
}

namespace {

// The ATen fallback's fresh result, quantized afterwards when there is an epilogue.
torch::Tensor finish(torch::Tensor out, const quant::PreparedFakeQuant* epilogue) {
  if (epilogue != nullptr) {
    out = out.contiguous();
    epilogue->apply_all(out);
  }
  return out;
}

}  // namespace

torch::Tensor thread_invariant_matmul(const torch::Tensor& a, const torch::Tensor& b,
                                      const quant::PreparedFakeQuant* epilogue) {
  if (!takes_thread_invariant_path(a, b)) return finish(at::matmul(a, b), epilogue);
  const int64_t rows = a.size(-2), inner = a.size(-1), cols = b.size(-1);
  // A [B, M, K] view of `a` (b 2-D: all leading dimensions fold into the rows).
  const at::Tensor a3 = b.dim() == 2 ? a.reshape({1, -1, inner}) : a.reshape({-1, rows, inner});
  const at::Tensor b3 = b.dim() == 2 ? b : b.reshape({-1, inner, cols});
  return blocked_product(a, a3, b3, at::Tensor(), epilogue);
}

torch::Tensor thread_invariant_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                      const quant::PreparedFakeQuant* epilogue) {
  const at::Tensor weight_t = weight.t();
  if (x.dim() < 1 || !takes_thread_invariant_path(x.dim() == 1 ? x.unsqueeze(0) : x, weight_t) ||
      (bias.defined() && (!eligible(bias) || (torch::GradMode::is_enabled() && bias.requires_grad()))))
    return finish(at::linear(x, weight, bias), epilogue);
  return blocked_product(x, x.reshape({1, -1, x.size(-1)}), weight_t, bias, epilogue);
}

}  // namespace qsim::nn
