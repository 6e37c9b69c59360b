#include "models/fused_qkv.hpp"

#include <ATen/ATen.h>

#include "qsim/nn/thread_invariant_matmul.hpp"
#include "qsim/quant/prepared_fake_quant.hpp"

namespace qsim::models::bert::detail {
namespace {

// The fused output quantizer of the [.., 3·width] Q/K/V output, from the three
// quantizers' encodings spread over their columns. When none quantizes in
// embedding groups each is per tensor (one encoding repeated over its third), and
// the output is seen as [.., 3, width] with one encoding per projection: element
// i's channel, (i / width) % 3, is its column's third, so the values are those of
// the per-column form, but the kernel runs 3 segments per row with one parameter
// set each instead of loading parameters per column.
quant::PreparedFakeQuant qkv_epilogue(std::vector<int64_t> shape, const std::vector<quant::Encoding>& columns,
                                      int64_t width, bool per_tensor) {
  if (!per_tensor) {
    shape.back() = 3 * width;
    return quant::PreparedFakeQuant::static_grid(shape, columns, -1);
  }
  const auto third = [&](int64_t i) { return columns[static_cast<size_t>(i * width)]; };
  shape.back() = 3;
  shape.push_back(width);
  return quant::PreparedFakeQuant::static_grid(shape, {third(0), third(1), third(2)}, -2);
}

}  // namespace

const torch::Tensor& FusedQkv::stacked(const std::array<torch::Tensor, 3>& parts, std::vector<Source>& key,
                                       torch::Tensor& cache) {
  std::vector<Source> now;
  for (const torch::Tensor& t : parts) now.push_back({t.unsafeGetTensorImpl(), t.data_ptr(), t._version()});
  if (!cache.defined() || now != key) {
    cache = at::cat({parts[0], parts[1], parts[2]}, 0);
    key = std::move(now);
  }
  return cache;
}

std::optional<std::array<torch::Tensor, 3>> FusedQkv::project(nn::LinearImpl& query, nn::LinearImpl& key,
                                                             nn::LinearImpl& value, const torch::Tensor& hidden) {
  nn::LinearImpl* linears[3] = {&query, &key, &value};
  if (at::GradMode::is_enabled()) return std::nullopt;
  const int64_t width = query.options.out_features();
  for (nn::LinearImpl* l : linears) {
    // A Linear with its own kernel (e.g. integer arithmetic) computes itself.
    if ((l->kernel && l->kernel->active(*l)) || l->input_quantizer(0)->enabled() || !l->bias.defined() || l->options.out_features() != width) {
      return std::nullopt;
    }
  }
  // AIMET's order per block: parameters after inputs (none on), before the output.
  std::array<torch::Tensor, 3> weights, biases;
  for (int i = 0; i < 3; ++i) {
    weights[static_cast<size_t>(i)] = linears[i]->weight_quantizer(linears[i]->weight);
    biases[static_cast<size_t>(i)] = linears[i]->bias_quantizer(linears[i]->bias);
  }
  const torch::Tensor& weight = stacked(weights, weight_key_, weight_);
  const torch::Tensor& bias = stacked(biases, bias_key_, bias_);
  if (!nn::takes_thread_invariant_path(hidden, weight.t())) return std::nullopt;

  // The output quantizers fused over their column ranges when all of them can be;
  // otherwise each quantizes its own slice afterwards (same values).
  std::vector<quant::Encoding> columns;
  bool fused = true, per_tensor = true;
  for (nn::LinearImpl* l : linears) {
    const auto part = l->output_quantizer->fused_static_channels(width);
    fused = fused && part.has_value();
    per_tensor = per_tensor && !l->output_quantizer->uses_embedding_groups();
    if (part) columns.insert(columns.end(), part->begin(), part->end());
  }
  std::optional<quant::PreparedFakeQuant> epilogue;
  if (fused) epilogue = qkv_epilogue(hidden.sizes().vec(), columns, width, per_tensor);
  const torch::Tensor all = nn::thread_invariant_linear(hidden, weight, bias, epilogue ? &*epilogue : nullptr);
  std::array<torch::Tensor, 3> out;
  for (int i = 0; i < 3; ++i) {
    const torch::Tensor slice = all.narrow(-1, i * width, width);
    out[static_cast<size_t>(i)] = fused ? slice : linears[i]->output_quantizer->forward(slice);
  }
  return out;
}

}  // namespace qsim::models::bert::detail
