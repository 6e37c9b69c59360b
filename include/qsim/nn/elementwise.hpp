#pragma once

// Two-input ops as modules, as in AIMET's aimet_torch.elementwise_ops: Add, Sub, Mul,
// Div (x / y; a constant divisor is a 0-d tensor) and MatMul. Being modules gives
// them quantizer slots: input_quantizers.0, input_quantizers.1 and output_quantizer.
// The same op written functionally (`a + b`) has no slot of its own, exactly as in
// AIMET, so a model picks module or functional per call site.
//
// BERT's attention "mask_add" is an Add (AIMET's class is elementwise_ops.Add): its
// input 1 is the int64 zoo mask, which its quantizer passes through untouched and
// at::add promotes to float.

#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "qsim/nn/quantizable.hpp"
#include "qsim/nn/thread_invariant_matmul.hpp"
#include "qsim/quant/recipe.hpp"

namespace qsim::nn {
namespace detail {

/// Whether a ⊙ b can be written over a: a is free to overwrite and the result has
/// a's dtype and shape (b broadcasts into a).
bool fits_in_place(const torch::Tensor& a, const torch::Tensor& b);

enum class BinaryKind { add, sub, mul, div };

/// a ⊙= b in fixed chunks on ATen's threads, with `output` (the block's output
/// quantizer) fused in when it can be (QuantizerNodeImpl::prepare_fused); returns
/// the result and whether it is quantized already. Empty when a ⊙ b cannot take
/// the chunked in-place path (fits_in_place, float32 contiguous CPU, no autograd).
struct ChunkedResult {
  torch::Tensor value;
  bool quantized = false;
};
std::optional<ChunkedResult> chunked_in_place(torch::Tensor& a, const torch::Tensor& b, BinaryKind kind,
                                              quant::QuantizerNodeImpl& output);

/// x / divisor for a functional division (BERT's `scores / sqrt(d)`) whose result
/// feeds `next`, a block's input quantizer: in place, chunked, with `next` fused in,
/// when x can be overwritten; else plain x / divisor (quantized = false).
ChunkedResult divide_into(torch::Tensor x, double divisor, quant::QuantizerNodeImpl& next);

/// matmul(a, b) under autograd keeping recipes of quantized operands
/// (nn/recipe_ops.hpp); empty when the plain op should run.
std::optional<torch::Tensor> matmul_keeping_recipes(const torch::Tensor& a, const torch::Tensor& b);

/// The result shape of matmul(a, b) when thread_invariant_matmul can fuse its
/// output quantizer (a [..., M, K], b [K, N] or [..., K, N]), else empty.
std::optional<std::vector<int64_t>> fusable_matmul_shape(const torch::Tensor& a, const torch::Tensor& b);

/// How a binary op fuses its output quantizer.
enum class Fusion { chunked, matmul };

/// The shared body: Derived supplies `kName`, `kOpType`, `kFusion` (and `kKind`
/// for the chunked ones) and `static apply(a, b)`, which may write over `a` (see
/// fits_in_place).
template <typename Derived>
class BinaryOpImpl : public torch::nn::Cloneable<Derived>, public Quantizable {
 public:
  void reset() override { register_activation_quantizers(*this, 2); }
  void pretty_print(std::ostream& stream) const override { stream << "qsim::nn::" << Derived::kName << "()"; }
  std::string_view op_type() const override { return Derived::kOpType; }

  /// Quantizes both inputs (no-ops while disabled), applies the op, quantizes the
  /// result. Pass `a` as an rvalue (std::move) to let the op reuse its memory.
  torch::Tensor forward(torch::Tensor a, const torch::Tensor& b) {
    torch::Tensor x = quantize_input_owned(0, std::move(a));  // one statement each: input 0 first
    const torch::Tensor y = quantize_input(1, b);
    return compute(std::move(x), y);
  }

  /// forward() for an `a` that has been through input_quantizers.0 already, fused
  /// into the op that produced it (QuantizerNodeImpl::prepare_fused).
  torch::Tensor forward_prequantized(torch::Tensor a, const torch::Tensor& b) {
    const torch::Tensor y = quantize_input(1, b);
    return compute(std::move(a), y);
  }

 private:
  // The op and its output quantizer, fused into one pass where the op allows it.
  torch::Tensor compute(torch::Tensor a, const torch::Tensor& b) {
    if constexpr (Derived::kFusion == Fusion::chunked) {
      if (auto result = chunked_in_place(a, b, Derived::kKind, *this->output_quantizer)) {
        return result->quantized ? result->value : this->quantize_output(std::move(result->value));
      }
    } else if constexpr (Derived::kFusion == Fusion::matmul) {
      if (auto y = matmul_keeping_recipes(a, b)) return this->quantize_output(std::move(*y));  // QAT
      if (const auto shape = fusable_matmul_shape(a, b)) {
        if (const auto fused = this->output_quantizer->prepare_fused(*shape)) {
          return thread_invariant_matmul(a, b, &*fused);
        }
      }
    }
    return this->quantize_output(Derived::apply(std::move(a), b));
  }
};

}  // namespace detail

/// a + b with broadcasting and type promotion. Example: `Add add; auto y = add(a, b);`
class AddImpl : public detail::BinaryOpImpl<AddImpl> {
 public:
  AddImpl() { reset(); }
  static constexpr std::string_view kName = "Add";
  static constexpr std::string_view kOpType = "Add";
  static constexpr detail::Fusion kFusion = detail::Fusion::chunked;
  static constexpr detail::BinaryKind kKind = detail::BinaryKind::add;
  static torch::Tensor apply(torch::Tensor a, const torch::Tensor& b) {
    // Under autograd, a sum of a quantizer's output and a constant (the attention
    // mask) passes a recipe on (qsim/quant/recipe.hpp).
    return detail::fits_in_place(a, b) ? a.add_(b) : quant::add_keeping_recipe(a, b);
  }
};
TORCH_MODULE(Add);

/// a − b. Example: `Sub sub; auto y = sub(a, b);`
class SubImpl : public detail::BinaryOpImpl<SubImpl> {
 public:
  SubImpl() { reset(); }
  static constexpr std::string_view kName = "Sub";
  static constexpr std::string_view kOpType = "Sub";
  static constexpr detail::Fusion kFusion = detail::Fusion::chunked;
  static constexpr detail::BinaryKind kKind = detail::BinaryKind::sub;
  static torch::Tensor apply(torch::Tensor a, const torch::Tensor& b) {
    return detail::fits_in_place(a, b) ? a.sub_(b) : at::sub(a, b);
  }
};
TORCH_MODULE(Sub);

/// a · b elementwise. Example: `Mul mul; auto y = mul(a, b);`
class MulImpl : public detail::BinaryOpImpl<MulImpl> {
 public:
  MulImpl() { reset(); }
  static constexpr std::string_view kName = "Mul";
  static constexpr std::string_view kOpType = "Mul";
  static constexpr detail::Fusion kFusion = detail::Fusion::chunked;
  static constexpr detail::BinaryKind kKind = detail::BinaryKind::mul;
  static torch::Tensor apply(torch::Tensor a, const torch::Tensor& b) {
    return detail::fits_in_place(a, b) ? a.mul_(b) : at::mul(a, b);
  }
};
TORCH_MODULE(Mul);

/// a / b (true division). Example: `Div div; auto y = div(scores, torch::scalar_tensor(8.0));`
class DivImpl : public detail::BinaryOpImpl<DivImpl> {
 public:
  DivImpl() { reset(); }
  static constexpr std::string_view kName = "Div";
  static constexpr std::string_view kOpType = "Div";
  static constexpr detail::Fusion kFusion = detail::Fusion::chunked;
  static constexpr detail::BinaryKind kKind = detail::BinaryKind::div;
  static torch::Tensor apply(torch::Tensor a, const torch::Tensor& b) {
    return detail::fits_in_place(a, b) ? a.div_(b) : at::div(a, b);
  }
};
TORCH_MODULE(Div);

/// torch.matmul(a, b) (batched; thread-count invariant in eval, thread_invariant_matmul.hpp). Example: `MatMul matmul; auto scores = matmul(q, k_t);`
class MatMulImpl : public detail::BinaryOpImpl<MatMulImpl> {
 public:
  MatMulImpl() { reset(); }
  static constexpr std::string_view kName = "MatMul";
  static constexpr std::string_view kOpType = "MatMul";
  static constexpr detail::Fusion kFusion = detail::Fusion::matmul;
  static torch::Tensor apply(const torch::Tensor& a, const torch::Tensor& b) { return thread_invariant_matmul(a, b); }
};
TORCH_MODULE(MatMul);

}  // namespace qsim::nn
