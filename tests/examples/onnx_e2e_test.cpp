// End to end: --export_onnx / --ort on bert_eval and bert_demo.
//  * bert_eval writes the three files named after the model card and, with --ort,
//    the ONNX Runtime rows: the float graph within 1e-4 of qsim FP32, the QDQ model
//    close to the simulation (classification and SQuAD);
//  * bert_demo, trained briefly on the real SST-2 train split and evaluated on the
//    real dev set: ORT's integer QDQ model predicts what the simulation predicts on
//    at least 99 % of the sentences whose simulated logit margin is ≥ 0.1, with
//    logits within a few output steps;
//  * flag mistakes are one-line errors.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <onnx/checker.h>

#include "support/paths.hpp"
#include "support/run_command.hpp"
#include "support/scratch_dir.hpp"
#include "tiny_task_files.hpp"

namespace qsim::test {
namespace {

class OnnxToolsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new ScratchDir("onnx_e2e");
    write_glue(root_->path() / "data" / "glue", 12);
    write_squad(root_->path() / "data" / "squad");
    write_checkpoint(root_->path() / "seqcls2", "BertForSequenceClassification", 2, 1);
    write_checkpoint(root_->path() / "qa", "BertForQuestionAnswering", 2, 4);
  }
  static void TearDownTestSuite() { delete root_; }

  static CommandResult eval(const std::string& card, const std::string& checkpoint, const fs::path& out,
                            const std::string& extra) {
    return run_command(fmt::format(
        "'{}' --model_config {} --model_dir '{}' --data_dir '{}' --output_dir '{}' --per_device_eval_batch_size 4 "
        "--calibrate 2 --threads 1 {}",
        QSIM_BERT_EVAL_BIN, card, (root_->path() / checkpoint).string(), (root_->path() / "data").string(),
        out.string(), extra));
  }
  static nlohmann::json results(const fs::path& out) { return nlohmann::json::parse(read(out / "results.json")); }

  static ScratchDir* root_;
};
ScratchDir* OnnxToolsTest::root_ = nullptr;

TEST_F(OnnxToolsTest, BertEvalExportsTheModelAndAddsOnnxRuntimeRows) {
  for (const auto& [task, checkpoint] : {std::pair<std::string, std::string>{"sst2", "seqcls2"}, {"squad", "qa"}}) {
    SCOPED_TRACE(task);
    const fs::path out = root_->path() / ("out_" + task), onnx = root_->path() / ("onnx_" + task);
    const CommandResult r =
        eval("bert_w8a8_" + task, checkpoint, out, fmt::format("--export_onnx '{}' --ort", onnx.string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string prefix = "bert_w8a8_" + task;
    for (const char* suffix : {".onnx", "_qdq.onnx"}) {
      EXPECT_NO_THROW(onnx::checker::check_model((onnx / (prefix + suffix)).string())) << suffix;
    }
    EXPECT_TRUE(fs::exists(onnx / (prefix + ".encodings")));
    const nlohmann::json j = results(out).at("onnx");
    const nlohmann::json& rows = j.at("onnx_runtime");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].at("label").get<std::string>().rfind("FP32 (ONNX Runtime ", 0), 0u) << rows[0].at("label");
    EXPECT_LE(rows[0].at("vs_qsim").at(task).at("max_abs_logit_diff").get<double>(), 1e-4);
    EXPECT_NE(rows[1].at("label").get<std::string>().find("QDQ"), std::string::npos);
    EXPECT_LE(rows[1].at("vs_qsim").at(task).at("max_output_steps").get<double>(), 12.0);  // as deploy_test's
    EXPECT_TRUE(rows[1].at("scores").at(task).is_object());
    const std::string md = read(out / "results.md");
    EXPECT_NE(md.find("| FP32 (ONNX Runtime"), std::string::npos) << md;
    EXPECT_NE(md.find("W8A8 int8 (ONNX Runtime"), std::string::npos) << md;
  }
}

TEST_F(OnnxToolsTest, StaticShapesAndFlagMistakes) {
  const fs::path out = root_->path() / "out_static", onnx = root_->path() / "onnx_static";
  const CommandResult ok =
      eval("bert_w8a8_rte", "seqcls2", out, fmt::format("--export_onnx '{}' --onnx_static_shape", onnx.string()));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(fs::exists(onnx / "bert_w8a8_rte.onnx"));
  const CommandResult ort = eval("bert_w8a8_rte", "seqcls2", root_->path() / "bad1", "--ort");
  EXPECT_EQ(ort.exit_code, 2);
  EXPECT_NE(ort.err.find("--ort needs --export_onnx"), std::string::npos) << ort.err;
  const CommandResult both = eval("bert_w8a8_rte", "seqcls2", root_->path() / "bad2",
                                  fmt::format("--export_onnx '{}' --ort --onnx_static_shape", onnx.string()));
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("--onnx_static_shape"), std::string::npos) << both.err;
  write(root_->path() / "a_file", "x");
  const CommandResult unwritable = eval("bert_w8a8_rte", "seqcls2", root_->path() / "bad3",
                                        fmt::format("--export_onnx '{}'", (root_->path() / "a_file").string()));
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_NE(unwritable.err.find("a_file"), std::string::npos) << unwritable.err;
}

// The real dev set: a demo model trained for one short epoch on real SST-2 rows.
TEST_F(OnnxToolsTest, IntegerQdqModelPredictsWhatTheSimulationPredictsOnRealSst2) {
  const fs::path out = root_->path() / "demo", onnx = root_->path() / "demo_onnx";
  const CommandResult r = run_command(fmt::format(
      "'{}' --data_dir '{}' --output_dir '{}' --max_train_samples 8000 --layers 1 --hidden 64 --heads 2 --epochs 1 "
      "--calibrate 4 --qat_steps 20 --threads 2 --export_onnx '{}' --ort",
      QSIM_BERT_DEMO_BIN, data_dir(), out.string(), onnx.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json rows = results(out).at("onnx").at("onnx_runtime");
  ASSERT_EQ(rows.size(), 5u) << "FP32, W8A8 PTQ/QAT, lower setting PTQ/QAT";
  for (const nlohmann::json& row : rows) {
    SCOPED_TRACE(row.at("label").get<std::string>());
    const nlohmann::json& c = row.at("vs_qsim").at("sst2");
    const auto decided = c.at("decided_predictions").get<int64_t>();
    EXPECT_GE(decided, 100) << "enough sentences with a clear margin";
    EXPECT_GE(static_cast<double>(c.at("agreeing_predictions").get<int64_t>()), 0.99 * static_cast<double>(decided));
    if (row.at("label").get<std::string>().rfind("FP32", 0) == 0) {
      EXPECT_LE(c.at("max_abs_logit_diff").get<double>(), 1e-4);
    } else {
      EXPECT_LE(c.at("max_output_steps").get<double>(), 4.0);
    }
  }
}

}  // namespace
}  // namespace qsim::test
