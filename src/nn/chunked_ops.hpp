#pragma once

// Inference ops of the nn blocks computed in fixed chunks on ATen's threads, with
// the block's output quantizer optionally fused in: each chunk is computed by the
// ATen op (single-threaded inside the parallel region) and, while it is still in
// cache, quantized in place. Fused and unfused runs take the same chunks, so their
// values are identical; the chunks depend only on the shape, so the results do
// not depend on the thread count either. Chunks hold whole rows of the last axis
// (softmax and LayerNorm need them) and at least kChunkElements elements.

#include <cstdint>
#include <functional>

#include <ATen/core/Tensor.h>

#include "qsim/quant/prepared_fake_quant.hpp"

namespace qsim::nn::detail {

/// Target chunk size: 32k floats (128 KiB) in, the same out, well within L2.
inline constexpr int64_t kChunkElements = int64_t{1} << 15;

/// Whether `t` takes the chunked path: a float32, contiguous, non-empty CPU
/// tensor, with autograd not recording (its backward would need ATen's op).
bool chunkable(const at::Tensor& t);

/// Runs op(first_row, row_count) over `rows` rows of `row_size` elements in
/// chunks of whole rows, in parallel; after each chunk, `epilogue` (if any)
/// quantizes that chunk of `out` in place.
void for_each_row_chunk(int64_t rows, int64_t row_size, float* out, const quant::PreparedFakeQuant* epilogue,
                        const std::function<void(int64_t, int64_t)>& op);

/// y = gelu(x) (exact erf form), chunked; x chunkable.
at::Tensor chunked_gelu(const at::Tensor& x, const quant::PreparedFakeQuant* epilogue);
/// y = softmax(x, last dim), chunked by rows; x chunkable.
at::Tensor chunked_softmax(const at::Tensor& x, const quant::PreparedFakeQuant* epilogue);
/// y = layer_norm(x) over the trailing `normalized` elements, chunked by rows.
at::Tensor chunked_layer_norm(const at::Tensor& x, int64_t normalized, const at::Tensor& weight,
                              const at::Tensor& bias, double eps, const quant::PreparedFakeQuant* epilogue);
/// a ⊙= b (b broadcasts into a; a chunkable and overwritable), chunked by rows of a's
/// last axis within each slice of its leading dimensions; returns a.
at::Tensor chunked_binary_(at::Tensor a, const at::Tensor& b, const quant::PreparedFakeQuant* epilogue,
                           const std::function<void(at::Tensor&, const at::Tensor&)>& op_);
/// x /= divisor in place (x chunkable and overwritable), then `epilogue`; returns x.
at::Tensor chunked_div_(at::Tensor x, double divisor, const quant::PreparedFakeQuant* epilogue);

}  // namespace qsim::nn::detail
