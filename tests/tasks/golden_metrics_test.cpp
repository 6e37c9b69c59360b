// Every case of golden/metrics/glue_metrics.json (sklearn / scipy) and
// golden/metrics/squad_v1.1.json (official evaluate-v1.1.py), with the
// tolerances of golden/README.md sections 3 and 4.
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "qsim/error.hpp"
#include "qsim/tasks/classification_metrics.hpp"
#include "qsim/tasks/correlation_metrics.hpp"
#include "qsim/tasks/glue_metrics.hpp"
#include "qsim/tasks/squad_metrics.hpp"
#include "qsim/tasks/squad_reader.hpp"
#include "support/paths.hpp"

namespace qsim::tasks {
namespace {

using nlohmann::json;

json load(const std::string& name) {
  const std::string path = test::golden_dir() + "/metrics/" + name;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return json::parse(in);
}

bool is_nan_expected(const json& value) {
  return value.is_string() && value.get<std::string>() == "nan";
}

void expect_value(double got, const json& expected, const json& special, double tolerance) {
  if (expected.is_null()) {
    ASSERT_TRUE(special.is_string()) << "case without an expected value";
    EXPECT_EQ(special.get<std::string>(), "nan");
    EXPECT_TRUE(std::isnan(got)) << got;
    return;
  }
  EXPECT_NEAR(got, expected.get<double>(), tolerance);
}

double run_metric(const std::string& metric, const json& c) {
  if (metric == "pearson" || metric == "spearman") {
    const auto x = c.at("predictions").get<std::vector<double>>();
    const auto y = c.at("labels").get<std::vector<double>>();
    return metric == "pearson" ? pearson(x, y) : spearman(x, y);
  }
  const auto p = c.at("predictions").get<std::vector<int64_t>>();
  const auto l = c.at("labels").get<std::vector<int64_t>>();
  if (metric == "accuracy") return accuracy(p, l);
  if (metric == "f1") return f1_score(p, l);
  if (metric == "matthews_corrcoef") return matthews_corrcoef(p, l);
  ADD_FAILURE() << "unknown metric " << metric;
  return 0.0;
}

TEST(GoldenMetricsTest, EveryMetricCase) {
  const json golden = load("glue_metrics.json");
  const auto& cases = golden.at("metric_cases");
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("id").get<std::string>());
    const std::string metric = c.at("metric").get<std::string>();
    const double tolerance = (metric == "pearson" || metric == "spearman") ? 1e-10 : 1e-12;
    if (!c.at("error").is_null()) {
      EXPECT_THROW(run_metric(metric, c), ValueError) << c.at("error");
      continue;
    }
    expect_value(run_metric(metric, c), c.at("expected"), c.at("expected_special"), tolerance);
  }
}

// datasets' glue metric names for the transformers keys.
const std::map<std::string, std::string>& datasets_names() {
  static const std::map<std::string, std::string> names{
      {"mcc", "matthews_correlation"}, {"acc", "accuracy"},       {"f1", "f1"},
      {"pearson", "pearson"},          {"spearmanr", "spearmanr"}, {"acc_and_f1", "combined_score"},
      {"corr", "combined_score"}};
  return names;
}

void expect_metrics(const GlueMetrics& got, const json& expected) {
  EXPECT_EQ(got.size(), expected.size());
  for (const auto& [key, value] : expected.items()) {
    SCOPED_TRACE(key);
    const auto it = got.find(key);
    ASSERT_NE(it, got.end());
    const double tolerance = (key == "pearson" || key == "spearmanr" || key == "corr") ? 1e-10 : 1e-12;
    if (is_nan_expected(value)) {
      EXPECT_TRUE(std::isnan(it->second));
    } else {
      EXPECT_NEAR(it->second, value.get<double>(), tolerance);
    }
  }
}

TEST(GoldenMetricsTest, EveryTaskCase) {
  const json golden = load("glue_metrics.json");
  const auto& cases = golden.at("task_cases");
  ASSERT_FALSE(cases.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("id").get<std::string>());
    const GlueTask task = parse_glue_task(c.at("task").get<std::string>());
    GlueMetrics got;
    if (is_regression(task)) {
      got = glue_compute_metrics(task, c.at("predictions").get<std::vector<double>>(),
                                 c.at("labels").get<std::vector<double>>());
    } else {
      const auto predictions = c.at("predictions").get<std::vector<int64_t>>();
      if (c.contains("logits")) {
        std::vector<double> flat;
        for (const auto& row : c.at("logits")) {
          for (const auto& v : row) flat.push_back(v.get<double>());
        }
        EXPECT_EQ(argmax_rows(flat, glue_num_labels(task)), predictions);
      }
      got = glue_compute_metrics(task, predictions, c.at("labels").get<std::vector<int64_t>>());
    }
    expect_metrics(got, c.at("expected_transformers_glue_compute_metrics"));
    GlueMetrics renamed;
    for (const auto& [key, value] : got) renamed[datasets_names().at(key)] = value;
    expect_metrics(renamed, c.at("expected_datasets_glue_metric"));
    const double score = glue_task_score(task, got);
    const auto& datasets = c.at("expected_datasets_glue_metric");
    const json& expected_score = datasets.contains("combined_score") ? datasets.at("combined_score")
                                                                     : datasets.begin().value();
    if (is_nan_expected(expected_score)) {
      EXPECT_TRUE(std::isnan(score));
    } else {
      EXPECT_NEAR(score, expected_score.get<double>(), 1e-10);
    }
  }
}

TEST(GoldenMetricsTest, GlueAverageAveragesMnliFirst) {
  const std::map<GlueTask, double> scores{{GlueTask::cola, 0.5}, {GlueTask::mnli, 0.8},
                                          {GlueTask::mnli_mismatched, 0.6}, {GlueTask::rte, 0.9}};
  EXPECT_DOUBLE_EQ(glue_average(scores), (0.5 + 0.7 + 0.9) / 3);
  EXPECT_THROW(glue_average({}), ValueError);
}

TEST(GoldenSquadMetricsTest, EveryQuestion) {
  const json golden = load("squad_v1.1.json");
  const auto& questions = golden.at("per_question");
  ASSERT_FALSE(questions.empty());
  for (const auto& q : questions) {
    SCOPED_TRACE(q.at("id").get<std::string>());
    const auto gold = q.at("ground_truths").get<std::vector<std::string>>();
    const auto normalized_gold = q.at("normalized_ground_truths").get<std::vector<std::string>>();
    for (size_t i = 0; i < gold.size(); ++i) EXPECT_EQ(normalize_answer(gold[i]), normalized_gold[i]);
    if (q.at("prediction").is_null()) continue;
    const std::string prediction = q.at("prediction").get<std::string>();
    EXPECT_EQ(normalize_answer(prediction), q.at("normalized_prediction").get<std::string>());
    double em = 0.0;
    double f1 = 0.0;
    for (const auto& g : gold) {
      em = std::max(em, squad_exact_match(prediction, g));
      f1 = std::max(f1, squad_f1(prediction, g));
    }
    EXPECT_EQ(em, q.at("exact_match").get<double>());
    EXPECT_NEAR(f1, q.at("f1").get<double>(), 1e-12);
  }
}

TEST(GoldenSquadMetricsTest, Totals) {
  const json golden = load("squad_v1.1.json");
  const SquadDataset dataset = parse_squad(golden.at("dataset").dump(), "golden dataset");
  const auto predictions = golden.at("predictions").get<std::map<std::string, std::string>>();
  const SquadScores scores = evaluate_squad(dataset.examples, predictions);
  EXPECT_EQ(scores.num_questions, golden.at("num_questions").get<int64_t>());
  EXPECT_NEAR(scores.exact_match, golden.at("expected_totals").at("exact_match").get<double>(), 1e-9);
  EXPECT_NEAR(scores.f1, golden.at("expected_totals").at("f1").get<double>(), 1e-9);
  std::vector<std::string> messages;
  for (const auto& id : scores.unanswered) messages.push_back("Unanswered question " + id + " will receive score 0.");
  EXPECT_EQ(messages, golden.at("cli_stderr").get<std::vector<std::string>>());
}

}  // namespace
}  // namespace qsim::tasks
