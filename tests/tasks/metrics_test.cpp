#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/tasks/classification_metrics.hpp"
#include "qsim/tasks/correlation_metrics.hpp"
#include "qsim/tasks/glue_metrics.hpp"
#include "support/expect_error.hpp"

namespace qsim::tasks {
namespace {

using Ints = std::vector<int64_t>;
using Doubles = std::vector<double>;

TEST(MetricsTest, AccuracyCountsMatches) {
  EXPECT_DOUBLE_EQ(accuracy(Ints{1, 0, 1, 1}, Ints{1, 1, 1, 0}), 0.5);
  EXPECT_TRUE(std::isnan(accuracy(Ints{}, Ints{})));
  QSIM_EXPECT_THROW_MSG(accuracy(Ints{1}, Ints{1, 0}), ValueError, {"accuracy", "1 predictions", "2 labels"});
}

TEST(MetricsTest, F1EdgeCasesAreZero) {
  EXPECT_DOUBLE_EQ(f1_score(Ints{1, 1, 0, 0}, Ints{1, 0, 1, 0}), 0.5);
  EXPECT_EQ(f1_score(Ints{0, 0}, Ints{1, 0}), 0.0);  // nothing predicted positive
  EXPECT_EQ(f1_score(Ints{0, 0}, Ints{0, 0}), 0.0);  // no positives anywhere
  QSIM_EXPECT_THROW_MSG(f1_score(Ints{2}, Ints{1}), ValueError, {"f1", "prediction 2"});
}

TEST(MetricsTest, MatthewsHandlesDegenerateAndMulticlass) {
  EXPECT_DOUBLE_EQ(matthews_corrcoef(Ints{1, 0, 1, 0}, Ints{1, 0, 1, 0}), 1.0);
  EXPECT_DOUBLE_EQ(matthews_corrcoef(Ints{0, 1, 0, 1}, Ints{1, 0, 1, 0}), -1.0);
  EXPECT_EQ(matthews_corrcoef(Ints{1, 1, 1}, Ints{1, 0, 1}), 0.0);
  // 3 classes, hand-computed: C = [[1,1,0],[0,1,0],[0,0,1]], n = 4, correct = 3,
  // t = (2,1,1), p = (1,2,1): (3*4 - 5) / sqrt((16 - 6) * (16 - 6)) = 0.7.
  EXPECT_NEAR(matthews_corrcoef(Ints{0, 1, 1, 2}, Ints{0, 0, 1, 2}), 0.7, 1e-15);
}

TEST(MetricsTest, PearsonSpecialCases) {
  EXPECT_EQ(pearson(Doubles{1, 2}, Doubles{3, 1}), -1.0);
  EXPECT_TRUE(std::isnan(pearson(Doubles{1, 1, 1}, Doubles{1, 2, 3})));
  QSIM_EXPECT_THROW_MSG(pearson(Doubles{1}, Doubles{2}), ValueError, {"at least 2", "got 1"});
  EXPECT_NEAR(pearson(Doubles{1, 2, 3, 4}, Doubles{2, 4, 6, 8.5}), 0.99838143945703, 1e-12);
}

TEST(MetricsTest, SpearmanUsesAverageRanks) {
  EXPECT_EQ(average_ranks(Doubles{10, 20, 20, 5}), (Doubles{2, 3.5, 3.5, 1}));
  EXPECT_NEAR(spearman(Doubles{1, 2, 3, 4}, Doubles{1, 4, 9, 16}), 1.0, 1e-15);
  EXPECT_TRUE(std::isnan(spearman(Doubles{1}, Doubles{1})));
  EXPECT_TRUE(std::isnan(spearman(Doubles{2, 2}, Doubles{1, 3})));
}

TEST(MetricsTest, GlueMetricKeysPerTask) {
  const GlueMetrics mrpc = glue_compute_metrics(GlueTask::mrpc, Ints{1, 0, 1, 1}, Ints{1, 0, 0, 1});
  EXPECT_DOUBLE_EQ(mrpc.at("acc"), 0.75);
  EXPECT_DOUBLE_EQ(mrpc.at("f1"), 0.8);
  EXPECT_DOUBLE_EQ(mrpc.at("acc_and_f1"), 0.775);
  EXPECT_DOUBLE_EQ(glue_task_score(GlueTask::mrpc, mrpc), 0.775);
  EXPECT_EQ(glue_compute_metrics(GlueTask::cola, Ints{1, 0}, Ints{1, 0}).count("mcc"), 1u);
  EXPECT_EQ(glue_compute_metrics(GlueTask::rte, Ints{1, 0}, Ints{1, 0}).count("acc"), 1u);
  QSIM_EXPECT_THROW_MSG(glue_compute_metrics(GlueTask::stsb, Ints{1}, Ints{1}), ValueError, {"stsb"});
  QSIM_EXPECT_THROW_MSG(glue_compute_metrics(GlueTask::sst2, Doubles{1, 2}, Doubles{1, 2}), ValueError,
                        {"sst2"});
}

TEST(MetricsTest, ArgmaxTakesFirstOnTies) {
  EXPECT_EQ(argmax_rows(Doubles{0.1, 0.1, 0.5, 0.2, 0.3, 0.3}, 2), (Ints{0, 0, 0}));
  EXPECT_EQ(argmax_rows(Doubles{0.1, 0.2, 0.3, 0.3, 0.2, 0.1}, 3), (Ints{2, 0}));
  QSIM_EXPECT_THROW_MSG(argmax_rows(Doubles{1, 2, 3}, 2), ValueError, {"3 logits", "2 labels"});
}

}  // namespace
}  // namespace qsim::tasks
