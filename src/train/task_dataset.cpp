#include "qsim/train/task_dataset.hpp"

#include <algorithm>

#include <torch/torch.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "detail/check.hpp"

namespace qsim::train {
namespace {

std::string shape_of(const torch::Tensor& t) {
  return t.defined() ? fmt::format("[{}]", fmt::join(t.sizes(), ", ")) : std::string("undefined");
}

void check_matrix(const torch::Tensor& t, const char* name, const torch::Tensor& like) {
  QSIM_CHECK(t.defined(), ValueError, "task dataset: '{}' is missing", name);
  QSIM_CHECK(t.dim() == 2 && t.sizes() == like.sizes(), ValueError,
             "task dataset: '{}' has shape {}, expected {}", name, shape_of(t), shape_of(like));
  QSIM_CHECK(t.scalar_type() == torch::kLong, ValueError, "task dataset: '{}' must be int64, got {}", name,
             c10::toString(t.scalar_type()));
}

void check_vector(const torch::Tensor& t, const char* name, int64_t n) {
  if (!t.defined()) return;
  QSIM_CHECK(t.dim() == 1 && t.size(0) == n, ValueError, "task dataset: '{}' has shape {}, expected [{}]", name,
             shape_of(t), n);
}

// `f` applied to every defined field of `data` (undefined ones stay undefined).
template <typename Out, typename F>
Out map_fields(const TaskDataset& data, F f) {
  const auto apply = [&f](const torch::Tensor& t) { return t.defined() ? f(t) : torch::Tensor(); };
  Out out;
  out.input_ids = apply(data.input_ids);
  out.token_type_ids = apply(data.token_type_ids);
  out.attention_mask = apply(data.attention_mask);
  out.labels = apply(data.labels);
  out.start_positions = apply(data.start_positions);
  out.end_positions = apply(data.end_positions);
  return out;
}

TaskBatch gather(const TaskDataset& data, const torch::Tensor& index, bool trim_padding) {
  TaskBatch b = map_fields<TaskBatch>(data, [&](const torch::Tensor& t) { return t.index_select(0, index); });
  if (trim_padding && b.attention_mask.numel() > 0) {
    const int64_t length = std::max<int64_t>(1, b.attention_mask.sum(1).max().item<int64_t>());
    b.input_ids = b.input_ids.narrow(1, 0, length).contiguous();
    b.token_type_ids = b.token_type_ids.narrow(1, 0, length).contiguous();
    b.attention_mask = b.attention_mask.narrow(1, 0, length).contiguous();
  }
  return b;
}

}  // namespace

void TaskDataset::validate() const {
  QSIM_CHECK(input_ids.defined() && input_ids.dim() == 2, ValueError,
             "task dataset: 'input_ids' must be [N, L], got {}", shape_of(input_ids));
  check_matrix(input_ids, "input_ids", input_ids);
  check_matrix(token_type_ids, "token_type_ids", input_ids);
  check_matrix(attention_mask, "attention_mask", input_ids);
  check_vector(labels, "labels", size());
  check_vector(start_positions, "start_positions", size());
  check_vector(end_positions, "end_positions", size());
  QSIM_CHECK(start_positions.defined() == end_positions.defined(), ValueError,
             "task dataset: 'start_positions' and 'end_positions' must both be given or both be missing");
}

TaskBatch TaskDataset::batch(const std::vector<int64_t>& indices, bool trim_padding) const {
  for (int64_t i : indices)
    QSIM_CHECK(i >= 0 && i < size(), ValueError, "task dataset: row {} out of range [0, {})", i, size());
  const torch::Tensor index = torch::tensor(indices, torch::kLong).to(input_ids.device());
  return gather(*this, index, trim_padding);
}

TaskBatch TaskDataset::batch(int64_t begin, int64_t end, bool trim_padding) const {
  QSIM_CHECK(0 <= begin && begin <= end && end <= size(), ValueError,
             "task dataset: rows [{}, {}) out of range [0, {})", begin, end, size());
  return gather(*this, torch::arange(begin, end, torch::TensorOptions(torch::kLong).device(input_ids.device())),
                trim_padding);
}

TaskDataset TaskDataset::to(torch::Device device) const {
  return map_fields<TaskDataset>(*this, [device](const torch::Tensor& t) { return t.to(device); });
}

TaskDataset TaskDataset::head(int64_t count) const {
  if (count <= 0 || count >= size()) return *this;
  return rows(0, count);
}

TaskDataset TaskDataset::rows(int64_t begin, int64_t end) const {
  QSIM_CHECK(0 <= begin && begin <= end && end <= size(), ValueError, "task dataset: rows [{}, {}) outside [0, {})",
             begin, end, size());
  return map_fields<TaskDataset>(*this, [&](const torch::Tensor& t) { return t.narrow(0, begin, end - begin); });
}

}  // namespace qsim::train
