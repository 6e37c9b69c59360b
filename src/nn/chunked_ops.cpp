#include "nn/chunked_ops.hpp"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <ATen/core/grad_mode.h>

#include "qsim/quant/output_pool.hpp"

namespace qsim::nn::detail {
namespace {

at::Tensor fresh_like(const at::Tensor& x) { return quant::pooled_empty(x.sizes(), at::kFloat); }

}  // namespace

bool chunkable(const at::Tensor& t) {
  const bool recording = at::GradMode::is_enabled() && t.requires_grad();
  return t.defined() && t.device().is_cpu() && t.scalar_type() == at::kFloat && t.layout() == at::kStrided &&
         t.is_contiguous() && t.numel() > 0 && t.dim() >= 1 && !recording;
}

void for_each_row_chunk(int64_t rows, int64_t row_size, float* out, const quant::PreparedFakeQuant* epilogue,
                        const std::function<void(int64_t, int64_t)>& op) {
  const int64_t per_chunk = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(row_size, 1));
  const int64_t chunks = (rows + per_chunk - 1) / per_chunk;
  // Pool threads start with their own grad / inference modes: take the caller's.
  const at::ThreadLocalState caller_state;
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    const at::ThreadLocalStateGuard caller_modes(caller_state);
    for (int64_t c = begin; c < end; ++c) {
      const int64_t first = c * per_chunk;
      const int64_t count = std::min(per_chunk, rows - first);
      op(first, count);
      if (epilogue != nullptr) epilogue->apply(out, first * row_size, (first + count) * row_size);
    }
  });
}

at::Tensor chunked_gelu(const at::Tensor& x, const quant::PreparedFakeQuant* epilogue) {
  at::Tensor y = fresh_like(x);
  const at::Tensor in = x.view({-1}), out = y.view({-1});
  // Rows of one element: chunks of exactly kChunkElements (a multiple of every
  // vector width, so ATen's vector loop covers each chunk, as it covers the whole).
  for_each_row_chunk(in.numel(), 1, y.data_ptr<float>(), epilogue, [&](int64_t first, int64_t count) {
    at::Tensor o = out.narrow(0, first, count);
    at::gelu_out(o, in.narrow(0, first, count), "none");
  });
  return y;
}

at::Tensor chunked_softmax(const at::Tensor& x, const quant::PreparedFakeQuant* epilogue) {
  at::Tensor y = fresh_like(x);
  const int64_t cols = x.size(-1);
  const at::Tensor in = x.view({-1, cols}), out = y.view({-1, cols});
  for_each_row_chunk(in.size(0), cols, y.data_ptr<float>(), epilogue, [&](int64_t first, int64_t count) {
    at::Tensor o = out.narrow(0, first, count);
    at::_softmax_out(o, in.narrow(0, first, count), 1, /*half_to_float=*/false);
  });
  return y;
}

at::Tensor chunked_layer_norm(const at::Tensor& x, int64_t normalized, const at::Tensor& weight,
                              const at::Tensor& bias, double eps, const quant::PreparedFakeQuant* epilogue) {
  at::Tensor y = fresh_like(x);
  const at::Tensor in = x.view({-1, normalized}), out = y.view({-1, normalized});
  const int64_t rows = in.size(0);
  at::Tensor mean = at::empty({rows, 1}, x.options()), rstd = at::empty({rows, 1}, x.options());
  const std::vector<int64_t> shape{normalized};
  const c10::optional<at::Tensor> w = weight.defined() ? c10::optional<at::Tensor>(weight.view({-1})) : c10::nullopt;
  const c10::optional<at::Tensor> b = bias.defined() ? c10::optional<at::Tensor>(bias.view({-1})) : c10::nullopt;
  for_each_row_chunk(rows, normalized, y.data_ptr<float>(), epilogue, [&](int64_t first, int64_t count) {
    at::Tensor o = out.narrow(0, first, count), m = mean.narrow(0, first, count), r = rstd.narrow(0, first, count);
    at::native_layer_norm_out(o, m, r, in.narrow(0, first, count), shape, w, b, eps);
  });
  return y;
}

at::Tensor chunked_binary_(at::Tensor a, const at::Tensor& b, const quant::PreparedFakeQuant* epilogue,
                           const std::function<void(at::Tensor&, const at::Tensor&)>& op_) {
  const int64_t cols = a.size(-1);
  const int64_t rows_per_slice = a.dim() >= 2 ? a.size(-2) : 1;
  const int64_t slices = a.numel() / (cols * rows_per_slice);
  // b broadcast to a's shape as a view, folded to [slices, rows, cols] where the
  // strides allow it; otherwise each slice is found by its multi-index.
  const at::Tensor wide = b.expand(a.sizes());
  const at::Tensor a3 = a.view({slices, rows_per_slice, cols});
  const std::vector<int64_t> leading(a.sizes().begin(), a.sizes().end() - std::min<int64_t>(a.dim(), 2));
  auto b_slice = [&](int64_t s) {
    at::Tensor t = wide;
    int64_t rest = s;
    std::vector<int64_t> index(leading.size());
    for (auto d = static_cast<int64_t>(leading.size()) - 1; d >= 0; --d) {
      index[static_cast<size_t>(d)] = rest % leading[static_cast<size_t>(d)];
      rest /= leading[static_cast<size_t>(d)];
    }
    for (int64_t i : index) t = t.select(0, i);
    return a.dim() >= 2 ? t : t.unsqueeze(0);
  };
  for_each_row_chunk(slices * rows_per_slice, cols, a.data_ptr<float>(), epilogue, [&](int64_t first, int64_t count) {
    // A chunk never crosses a slice when rows_per_slice rows fit in one chunk;
    // otherwise it is a run of rows of one slice.
    int64_t row = first;
    const int64_t end = first + count;
    while (row < end) {
      const int64_t s = row / rows_per_slice, r = row % rows_per_slice;
      const int64_t n = std::min(end - row, rows_per_slice - r);
      at::Tensor target = a3[s].narrow(0, r, n);
      op_(target, b_slice(s).narrow(0, r, n));
      row += n;
    }
  });
  return a;
}

at::Tensor chunked_div_(at::Tensor x, double divisor, const quant::PreparedFakeQuant* epilogue) {
  const at::Tensor flat = x.view({-1});
  for_each_row_chunk(flat.numel(), 1, x.data_ptr<float>(), epilogue, [&](int64_t first, int64_t count) {
    flat.narrow(0, first, count).div_(divisor);
  });
  return x;
}

}  // namespace qsim::nn::detail
