#include "qsim/train/task_data.hpp"

#include <cstring>

#include <torch/torch.h>

#include "detail/check.hpp"

namespace qsim::train {
namespace {

// Copies one padded row into row `i` of an [N, L] int64 tensor.
void put_row(torch::Tensor& matrix, int64_t i, const std::vector<int64_t>& row, const char* name) {
  const int64_t length = matrix.size(1);
  QSIM_CHECK(static_cast<int64_t>(row.size()) == length, ValueError,
             "encode: example {}: '{}' has {} tokens, expected max_seq_length {}", i, name, row.size(), length);
  std::memcpy(matrix.data_ptr<int64_t>() + i * length, row.data(), sizeof(int64_t) * static_cast<size_t>(length));
}

TaskDataset empty_inputs(int64_t n, int64_t length) {
  TaskDataset data;
  data.input_ids = torch::zeros({n, length}, torch::kLong);
  data.token_type_ids = torch::zeros({n, length}, torch::kLong);
  data.attention_mask = torch::zeros({n, length}, torch::kLong);
  return data;
}

}  // namespace

TaskDataset encode_glue(const std::vector<tasks::GlueExample>& examples, const text::BertTokenizer& tokenizer,
                        int64_t max_seq_length, bool regression) {
  QSIM_CHECK(max_seq_length >= 3, ConfigError, "encode: max_seq_length must be >= 3, got {}", max_seq_length);
  const auto n = static_cast<int64_t>(examples.size());
  TaskDataset data = empty_inputs(n, max_seq_length);
  data.labels = regression ? torch::zeros({n}, torch::kFloat) : torch::zeros({n}, torch::kLong);
  for (int64_t i = 0; i < n; ++i) {
    const tasks::GlueExample& example = examples[static_cast<size_t>(i)];
    std::optional<std::string_view> text_b;
    if (example.text_b) text_b = *example.text_b;
    const text::BertInput input = tokenizer.encode(example.text_a, text_b, max_seq_length);
    put_row(data.input_ids, i, input.input_ids, "input_ids");
    put_row(data.token_type_ids, i, input.token_type_ids, "token_type_ids");
    put_row(data.attention_mask, i, input.attention_mask, "attention_mask");
    if (regression) {
      data.labels.data_ptr<float>()[i] = static_cast<float>(example.score);
    } else {
      data.labels.data_ptr<int64_t>()[i] = example.label;
    }
  }
  return data;
}

TaskDataset encode_squad(const std::vector<tasks::SquadFeature>& features, bool with_targets) {
  QSIM_CHECK(!features.empty(), ValueError, "encode: no squad features to encode");
  const auto n = static_cast<int64_t>(features.size());
  const auto length = static_cast<int64_t>(features.front().input_ids.size());
  TaskDataset data = empty_inputs(n, length);
  if (with_targets) {
    data.start_positions = torch::zeros({n}, torch::kLong);
    data.end_positions = torch::zeros({n}, torch::kLong);
  }
  for (int64_t i = 0; i < n; ++i) {
    const tasks::SquadFeature& feature = features[static_cast<size_t>(i)];
    put_row(data.input_ids, i, feature.input_ids, "input_ids");
    put_row(data.token_type_ids, i, feature.token_type_ids, "token_type_ids");
    put_row(data.attention_mask, i, feature.attention_mask, "attention_mask");
    if (with_targets) {
      data.start_positions.data_ptr<int64_t>()[i] = feature.start_position;
      data.end_positions.data_ptr<int64_t>()[i] = feature.end_position;
    }
  }
  return data;
}

}  // namespace qsim::train
