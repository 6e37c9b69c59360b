#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/tasks/glue_task.hpp"
#include "qsim/tasks/label_map.hpp"
#include "support/expect_error.hpp"
#include "support/paths.hpp"

namespace qsim::tasks {
namespace {

TEST(GlueTaskTest, NamesRoundTripAndAcceptGlueSpellings) {
  for (const GlueTask task : all_glue_tasks()) EXPECT_EQ(parse_glue_task(glue_task_name(task)), task);
  EXPECT_EQ(parse_glue_task("SST-2"), GlueTask::sst2);
  EXPECT_EQ(parse_glue_task("STS-B"), GlueTask::stsb);
  EXPECT_EQ(parse_glue_task("MNLI-MM"), GlueTask::mnli_mismatched);
  EXPECT_EQ(parse_glue_task("mnli_mismatched"), GlueTask::mnli_mismatched);
  QSIM_EXPECT_THROW_MSG(parse_glue_task("squad"), ConfigError, {"'squad'", "cola"});
}

TEST(GlueTaskTest, LabelsAndFiles) {
  EXPECT_EQ(glue_labels(GlueTask::mnli), (std::vector<std::string>{"contradiction", "entailment", "neutral"}));
  EXPECT_EQ(glue_num_labels(GlueTask::stsb), 1);
  EXPECT_EQ(glue_num_labels(GlueTask::rte), 2);
  EXPECT_EQ(glue_split_file(GlueTask::mnli_mismatched, GlueSplit::dev), "dev_mismatched.tsv");
  EXPECT_EQ(glue_split_file(GlueTask::mnli, GlueSplit::train), "train.tsv");
}

TEST(LabelMapTest, ConfigNamesWinCaseInsensitively) {
  const LabelMap map = glue_label_map(GlueTask::mnli, LabelMap{{"CONTRADICTION", 2}, {"Entailment", 0}, {"neutral", 1}});
  EXPECT_EQ(map.at("contradiction"), 2);
  EXPECT_EQ(map.at("entailment"), 0);
  EXPECT_EQ(map.at("neutral"), 1);
}

TEST(LabelMapTest, PlaceholderOrMismatchedNamesKeepDatasetOrder) {
  EXPECT_EQ(glue_label_map(GlueTask::rte, LabelMap{{"LABEL_0", 0}, {"LABEL_1", 1}}).at("not_entailment"), 1);
  EXPECT_EQ(glue_label_map(GlueTask::rte, LabelMap{{"yes", 1}, {"no", 0}}).at("entailment"), 0);
  EXPECT_TRUE(glue_label_map(GlueTask::stsb).empty());
}

TEST(LabelMapTest, ReadsLabel2idFromCheckpointConfig) {
  const LabelMap map = read_label2id(test::golden_dir() + "/bert_tiny_std002/models/seqcls3/config.json");
  ASSERT_FALSE(map.empty());
  for (const auto& [name, id] : map) EXPECT_EQ(name, "LABEL_" + std::to_string(id));
}

TEST(LabelMapTest, RejectsMissingConfig) {
  QSIM_EXPECT_THROW_MSG(read_label2id("/nonexistent/config.json"), IoError, {"/nonexistent/config.json"});
}

}  // namespace
}  // namespace qsim::tasks
