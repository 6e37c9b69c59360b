#include "qsim/train/task_dataset.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qsim/error.hpp"
#include "qsim/train/task_loss.hpp"
#include "support/expect_error.hpp"
#include "tiny_task.hpp"

namespace qsim::train {
namespace {

TEST(TaskDatasetTest, BatchGathersRowsAndTrimsPadding) {
  const TaskDataset data = test::marker_task(10);
  const TaskBatch batch = data.batch(std::vector<int64_t>{3, 1}, /*trim_padding=*/true);
  const int64_t longest = std::max(data.attention_mask[3].sum().item<int64_t>(), data.attention_mask[1].sum().item<int64_t>());
  ASSERT_EQ(batch.input_ids.sizes(), (std::vector<int64_t>{2, longest}));
  EXPECT_TRUE(torch::equal(batch.input_ids[0], data.input_ids[3].narrow(0, 0, longest)));
  EXPECT_EQ(batch.labels[1].item<int64_t>(), data.labels[1].item<int64_t>());
  EXPECT_EQ(data.batch(2, 5).input_ids.size(1), data.max_seq_length());
}

TEST(TaskDatasetTest, RowsAreAContiguousSliceOfEveryField) {
  const TaskDataset data = test::marker_task(10);
  const TaskDataset part = data.rows(3, 7);
  ASSERT_EQ(part.size(), 4);
  EXPECT_TRUE(torch::equal(part.input_ids, data.input_ids.narrow(0, 3, 4)));
  EXPECT_TRUE(torch::equal(part.labels, data.labels.narrow(0, 3, 4)));
  EXPECT_FALSE(part.start_positions.defined());
  EXPECT_EQ(data.rows(5, 5).size(), 0);
  QSIM_EXPECT_THROW_MSG(data.rows(8, 11), ValueError, {"rows [8, 11)", "[0, 10)"});
}

TEST(TaskDatasetTest, RejectsMismatchedShapesAndRows) {
  TaskDataset data = test::marker_task(4);
  data.attention_mask = torch::ones({4, 3}, torch::kLong);
  QSIM_EXPECT_THROW_MSG(data.validate(), ValueError, {"'attention_mask'", "[4, 3]", "[4, 16]"});
  const TaskDataset good = test::marker_task(4);
  QSIM_EXPECT_THROW_MSG(good.batch(std::vector<int64_t>{4}), ValueError, {"row 4", "[0, 4)"});
}

TEST(TaskLossTest, RegressionIsMeanSquaredError) {
  models::bert::BertTaskOutput out;
  out.logits = torch::tensor({{1.0f}, {3.0f}});
  TaskBatch batch;
  batch.labels = torch::tensor({0.0f, 1.0f});
  EXPECT_FLOAT_EQ(task_loss(out, batch).item<float>(), (1.0f + 4.0f) / 2.0f);
}

TEST(TaskLossTest, SpanLossAveragesStartAndEndAndIgnoresOutOfRange) {
  models::bert::BertTaskOutput out;
  out.start_logits = torch::tensor({{0.0f, 0.0f}, {5.0f, 0.0f}});
  out.end_logits = torch::tensor({{0.0f, 0.0f}, {0.0f, 0.0f}});
  TaskBatch batch;
  batch.start_positions = torch::tensor({1, 9}, torch::kLong);  // 9 → clamped to 2 → ignored
  batch.end_positions = torch::tensor({0, 1}, torch::kLong);
  const double ln2 = std::log(2.0);
  EXPECT_NEAR(task_loss(out, batch).item<double>(), (ln2 + ln2) / 2.0, 1e-6);
}

TEST(TaskLossTest, NamesTheMissingHead) {
  models::bert::BertTaskOutput out;
  out.logits = torch::zeros({1, 2});
  TaskBatch batch;
  batch.start_positions = torch::zeros({1}, torch::kLong);
  batch.end_positions = torch::zeros({1}, torch::kLong);
  QSIM_EXPECT_THROW_MSG(task_loss(out, batch), ValueError, {"question-answering head"});
}

}  // namespace
}  // namespace qsim::train
