#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "manifest.hpp"
#include "qsim/error.hpp"
#include "qsim/tasks/glue_reader.hpp"
#include "support/expect_error.hpp"
#include "support/paths.hpp"

namespace qsim::tasks {
namespace {

namespace fs = std::filesystem;

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string glue_dir() { return test::data_dir() + "/glue"; }

// Independent reading of a TSV line: std::getline, tab split.
std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  std::string field;
  while (std::getline(stream, field, '\t')) fields.push_back(field);
  if (!line.empty() && line.back() == '\t') fields.emplace_back();
  return fields;
}

std::vector<std::string> raw_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

struct TaskFile {
  GlueTask task;
  GlueSplit split;
};

std::vector<TaskFile> all_task_files() {
  std::vector<TaskFile> files;
  for (const GlueTask task : all_glue_tasks()) {
    files.push_back({task, GlueSplit::train});
    files.push_back({task, GlueSplit::dev});
  }
  return files;
}

TEST(GlueReaderTest, RowCountsMatchManifestForEveryFilePresent) {
  const auto expected = test::manifest_row_counts();
  ASSERT_FALSE(expected.empty());
  int checked = 0;
  for (const auto& [task, split] : all_task_files()) {
    const std::string relative =
        fmt::format("glue/{}/{}", glue_task_dir(task), glue_split_file(task, split));
    if (!fs::exists(test::data_dir() + "/" + relative)) continue;
    const auto it = expected.find(relative);
    ASSERT_NE(it, expected.end()) << relative << " is not in MANIFEST.md";
    EXPECT_EQ(static_cast<long>(read_glue(task, split, glue_dir()).size()), it->second) << relative;
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(expected.size())) << "every manifest file is readable";
}

TEST(GlueReaderTest, FirstAndLastRowsMatchAnIndependentSplit) {
  for (const auto& [task, split] : all_task_files()) {
    const std::string path = fmt::format("{}/{}/{}", glue_dir(), glue_task_dir(task), glue_split_file(task, split));
    if (!fs::exists(path)) continue;
    SCOPED_TRACE(path);
    const auto examples = read_glue(task, split, glue_dir());
    std::vector<std::string> lines = raw_lines(path);
    if (lines.front().rfind("\xEF\xBB\xBF", 0) == 0) lines.front().erase(0, 3);
    const bool header = task != GlueTask::cola;
    const std::vector<std::string> first = split_line(lines[header ? 1 : 0]);
    const std::vector<std::string> last = split_line(lines.back());
    const std::vector<std::string> labels = glue_labels(task);
    for (const auto& [example, fields] : {std::pair{examples.front(), first}, std::pair{examples.back(), last}}) {
      switch (task) {
        case GlueTask::cola:
          EXPECT_EQ(example.text_a, fields[3]);
          EXPECT_EQ(labels.at(static_cast<size_t>(example.label)), fields[1]);
          break;
        case GlueTask::sst2:
          EXPECT_EQ(example.text_a, fields[0]);
          EXPECT_EQ(labels.at(static_cast<size_t>(example.label)), fields[1]);
          break;
        case GlueTask::mrpc:
          EXPECT_EQ(example.text_a, fields[3]);
          EXPECT_EQ(example.text_b, fields[4]);
          EXPECT_EQ(labels.at(static_cast<size_t>(example.label)), fields[0]);
          break;
        case GlueTask::stsb:
          EXPECT_EQ(example.text_a, fields[7]);
          EXPECT_EQ(example.text_b, fields[8]);
          EXPECT_EQ(example.score, std::stod(fields.back()));
          break;
        default:
          EXPECT_EQ(example.text_a, fields[1]);
          EXPECT_EQ(example.text_b, fields[2]);
          EXPECT_EQ(labels.at(static_cast<size_t>(example.label)), fields.back());
          break;
      }
    }
  }
}

TEST(GlueReaderTest, ColaHasNoHeaderAndNoFinalNewline) {
  const auto examples = read_glue(GlueTask::cola, GlueSplit::dev, glue_dir());
  // MANIFEST.md: the first row is `gj04\t1\t\tThe sailors rode the breeze clear of the rocks.`
  EXPECT_EQ(examples.front().text_a, "The sailors rode the breeze clear of the rocks.");
  EXPECT_EQ(examples.front().label, 1);
  EXPECT_EQ(examples.front().line, 1);
  EXPECT_FALSE(examples.front().text_b.has_value());
}

TEST(GlueReaderTest, MrpcBomIsSkipped) {
  const std::string path = write_temp("mrpc_bom.tsv",
                                      "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                                      "1\t10\t11\tA \" quote\tB\n0\t12\t13\tC\tD \"\n");
  const auto examples = read_glue_tsv(GlueTask::mrpc, path);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].text_a, "A \" quote");
  EXPECT_EQ(examples[0].label, 1);
  EXPECT_EQ(examples[1].text_b, "D \"");
  EXPECT_EQ(examples[1].label, 0);
}

TEST(GlueReaderTest, QuotesDoNotMergeRowsAndCrlfIsStripped) {
  const std::string path = write_temp("rte_quotes.tsv",
                                      "index\tsentence1\tsentence2\tlabel\r\n"
                                      "0\t\"He said\tyes\tentailment\r\n"
                                      "1\tno\t\"open quote\tnot_entailment");
  const auto examples = read_glue_tsv(GlueTask::rte, path);
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[0].text_a, "\"He said");
  EXPECT_EQ(examples[0].label, 0);
  EXPECT_EQ(examples[1].text_b, "\"open quote");
  EXPECT_EQ(examples[1].label, 1);
}

TEST(GlueReaderTest, QqpRealRowsInGlueLayout) {
  const std::string path = test::golden_dir() + "/tokenizer/sources/QQP_dev_head5.tsv";
  const auto examples = read_glue_tsv(GlueTask::qqp, path);
  const auto lines = raw_lines(path);
  ASSERT_EQ(examples.size() + 1, lines.size());
  const auto first = split_line(lines[1]);
  EXPECT_EQ(examples.front().text_a, first[3]);
  EXPECT_EQ(examples.front().text_b, first[4]);
  EXPECT_EQ(std::to_string(examples.front().label), first[5]);
}

std::string mnli_row(const std::string& index, const std::string& s1, const std::string& s2,
                     const std::vector<std::string>& labels) {
  std::string row = index + "\t31193\t31193n\tgovernment\t( parse1 )\t( parse2 )\t(ROOT parse1)\t(ROOT parse2)\t" +
                    s1 + "\t" + s2;
  for (const auto& label : labels) row += "\t" + label;
  return row + "\n";
}

TEST(GlueReaderTest, MnliDevLayoutUsesGoldLabelInLastColumn) {
  const std::string header =
      "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
      "sentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n";
  const std::string path = write_temp(
      "dev_matched.tsv",
      header + mnli_row("0", "The new rights are nice enough", "Everyone really likes the newest benefits ",
                        {"neutral", "entailment", "neutral", "neutral", "neutral", "neutral"}) +
          mnli_row("1", "a", "b", {"contradiction", "contradiction", "contradiction", "contradiction",
                                   "contradiction", "contradiction"}));
  for (const GlueTask task : {GlueTask::mnli, GlueTask::mnli_mismatched}) {
    const auto examples = read_glue_tsv(task, path);
    ASSERT_EQ(examples.size(), 2u);
    EXPECT_EQ(examples[0].text_a, "The new rights are nice enough");
    EXPECT_EQ(examples[0].text_b, "Everyone really likes the newest benefits ");
    EXPECT_EQ(examples[0].label, 2);  // neutral
    EXPECT_EQ(examples[1].label, 0);  // contradiction
  }
}

TEST(GlueReaderTest, MnliTrainLayoutHasOneLabelColumn) {
  const std::string path = write_temp(
      "mnli_train.tsv", "index\tpromptID\tpairID\tgenre\tb1\tb2\tp1\tp2\tsentence1\tsentence2\tlabel1\tgold_label\n" +
                            mnli_row("0", "x", "y", {"entailment", "entailment"}));
  EXPECT_EQ(read_glue_tsv(GlueTask::mnli, path).at(0).label, 1);
}

TEST(GlueReaderTest, ReadGlueFindsMnliSplitFiles) {
  const std::string root = testing::TempDir() + "glue_root";
  fs::create_directories(root + "/MNLI");
  const std::string header = "index\tpromptID\tpairID\tgenre\tb1\tb2\tp1\tp2\tsentence1\tsentence2\tgold_label\n";
  std::ofstream(root + "/MNLI/dev_mismatched.tsv") << header << mnli_row("0", "m", "mm", {"neutral"});
  const auto examples = read_glue(GlueTask::mnli_mismatched, GlueSplit::dev, root);
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].text_a, "m");
  QSIM_EXPECT_THROW_MSG(read_glue(GlueTask::mnli, GlueSplit::dev, root), IoError, {"dev_matched.tsv"});
}

TEST(GlueReaderTest, LabelOrderFollowsConfigLabel2id) {
  const std::string path = write_temp("rte_order.tsv", "index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n");
  const LabelMap config{{"NOT_ENTAILMENT", 0}, {"ENTAILMENT", 1}};
  EXPECT_EQ(read_glue_tsv(GlueTask::rte, path, config).at(0).label, 1);
  EXPECT_EQ(read_glue_tsv(GlueTask::rte, path, LabelMap{{"LABEL_0", 0}, {"LABEL_1", 1}}).at(0).label, 0);
}

TEST(GlueReaderTest, RejectsRowWithTooFewColumns) {
  const std::string path = write_temp("sts_short.tsv",
                                      "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\t"
                                      "sentence2\tscore\n0\tmain\tf\t2012\t1\ts1\ts2\ta\tb\t5.0\n1\tmain\tf\n");
  QSIM_EXPECT_THROW_MSG(read_glue_tsv(GlueTask::stsb, path), IoError,
                        {"sts_short.tsv:3", "at least 10", "got 3"});
}

TEST(GlueReaderTest, RejectsEmptyLineInsideFile) {
  const std::string path = write_temp("sst_blank.tsv", "sentence\tlabel\na\t1\n\nb\t0\n");
  QSIM_EXPECT_THROW_MSG(read_glue_tsv(GlueTask::sst2, path), IoError, {"sst_blank.tsv:3", "got 0"});
}

TEST(GlueReaderTest, RejectsUnknownLabel) {
  const std::string path = write_temp("qnli_label.tsv", "index\tq\ts\tlabel\n0\ta\tb\tmaybe\n");
  QSIM_EXPECT_THROW_MSG(read_glue_tsv(GlueTask::qnli, path), IoError,
                        {"qnli_label.tsv:2", "unknown label 'maybe'", "'entailment'"});
}

TEST(GlueReaderTest, RejectsNonNumericScore) {
  const std::string path = write_temp("sts_score.tsv",
                                      "h\th\th\th\th\th\th\th\th\th\n0\tm\tf\ty\to\ts\ts\ta\tb\thigh\n");
  QSIM_EXPECT_THROW_MSG(read_glue_tsv(GlueTask::stsb, path), IoError, {"sts_score.tsv:2", "'high'"});
}

TEST(GlueReaderTest, RejectsMissingFile) {
  QSIM_EXPECT_THROW_MSG(read_glue_tsv(GlueTask::cola, "/nonexistent/dev.tsv"), IoError,
                        {"/nonexistent/dev.tsv"});
}

}  // namespace
}  // namespace qsim::tasks
