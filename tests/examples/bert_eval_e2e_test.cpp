// bert_eval end to end: every model card on tiny checkpoints and tiny GLUE/SQuAD
// files written here, results.json checked against metrics computed independently
// from the model's logits, and the bad-input paths (exit code 2, one clear line).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "qsim/models/bert/bert_checkpoint.hpp"
#include "qsim/text/bert_tokenizer.hpp"
#include "qsim/sim/quantized_checkpoint.hpp"
#include "support/run_command.hpp"
#include "tiny_task_files.hpp"

namespace qsim::test {
namespace {
namespace fs = std::filesystem;

using RunResult = qsim::test::CommandResult;

class BertEvalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::temp_directory_path() / fmt::format("qsim_bert_eval_e2e_{}", ::getpid()));
    fs::create_directories(*root_);
    write_glue(*root_ / "data" / "glue", 12);
    write_squad(*root_ / "data" / "squad");
    write_checkpoint(*root_ / "seqcls2", "BertForSequenceClassification", 2, 1);
    write_checkpoint(*root_ / "seqcls3", "BertForSequenceClassification", 3, 2);
    write_checkpoint(*root_ / "regression", "BertForSequenceClassification", 1, 3);
    write_checkpoint(*root_ / "qa", "BertForQuestionAnswering", 2, 4);
    // bert_demo reads the shared vocab layout of the data root.
    fs::create_directories(*root_ / "data" / "vocab");
    fs::copy_file(*root_ / "seqcls2" / "vocab.txt", *root_ / "data" / "vocab" / "bert-base-uncased-vocab.txt");
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*root_, ignored);
    delete root_;
  }

  static RunResult run(const std::string& args) {
    return qsim::test::run_command(fmt::format("'{}' {} --threads 1", QSIM_BERT_EVAL_BIN, args));
  }
  static std::string common(const std::string& model_config, const fs::path& out) {
    return fmt::format("--model_config {} --data_dir '{}' --output_dir '{}' --per_device_eval_batch_size 4 --calibrate 2",
                       model_config, (*root_ / "data").string(), out.string());
  }
  static nlohmann::json results(const fs::path& out) { return nlohmann::json::parse(read(out / "results.json")); }

  static fs::path* root_;
};
fs::path* BertEvalTest::root_ = nullptr;

std::string checkpoint_for(const std::string& task) {
  if (task == "squad") return "qa";
  if (task == "stsb") return "regression";
  if (task == "mnli") return "seqcls3";
  return "seqcls2";
}

TEST_F(BertEvalTest, EveryModelConfigRunsAndWritesValidResults) {
  for (const std::string task : {"rte", "stsb", "mrpc", "cola", "sst2", "qnli", "qqp", "mnli", "squad"}) {
    SCOPED_TRACE(task);
    const fs::path out = *root_ / ("out_" + task);
    const RunResult r = run(common("bert_w8a8_" + task, out) + fmt::format(" --model_dir '{}'", (*root_ / checkpoint_for(task)).string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json json = results(out);
    EXPECT_EQ(json.at("model_config"), "bert_w8a8_" + task);
    const std::vector<std::string> splits =
        task == "mnli" ? std::vector<std::string>{"mnli-m", "mnli-mm"} : std::vector<std::string>{task};
    for (const auto& split : splits) {
      for (const char* row : {"fp32", "w8a8"}) {
        const double value = json.at("headline").at(split).at(row).get<double>();
        EXPECT_TRUE(std::isfinite(value)) << split << " " << row;
        EXPECT_GE(value, -100.0);
        EXPECT_LE(value, 100.0);
      }
    }
    EXPECT_TRUE(fs::is_regular_file(out / "results.md"));
    EXPECT_NE(read(out / "results.md").find("zoo reference"), std::string::npos);
  }
}

// Accuracy and Pearson correlation recomputed here from the model's own logits
// (same checkpoint, same mask, inputs encoded by the library's tokenizer).
TEST_F(BertEvalTest, Fp32MetricEqualsIndependentComputationFromLogits) {
  const fs::path out = *root_ / "out_rte_metric";
  const fs::path ckpt = *root_ / "seqcls2";
  ASSERT_EQ(run(common("bert_w8a8_rte", out) + fmt::format(" --model_dir '{}'", ckpt.string())).exit_code, 0);
  const double reported = results(out).at("fp32").at("rte").at("acc").get<double>();

  auto model = models::bert::load_pretrained(ckpt.string(), models::bert::AttentionMask::zoo());
  const auto tokenizer = text::BertTokenizer::from_file((ckpt / "vocab.txt").string());
  std::istringstream tsv(read(*root_ / "data" / "glue" / "RTE" / "dev.tsv"));
  std::string line;
  std::getline(tsv, line);  // header
  int correct = 0, total = 0;
  torch::NoGradGuard no_grad;
  while (std::getline(tsv, line)) {
    std::vector<std::string> f;
    std::stringstream cells(line);
    for (std::string cell; std::getline(cells, cell, '\t');) f.push_back(cell);
    const text::BertInput in = tokenizer.encode(f[1], std::string_view(f[2]), 128);
    auto t = [](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong).unsqueeze(0); };
    const torch::Tensor logits = model(t(in.input_ids), t(in.token_type_ids), t(in.attention_mask)).logits;
    const int64_t predicted = logits[0][1].item<float>() > logits[0][0].item<float>() ? 1 : 0;
    correct += predicted == (f[3] == "entailment" ? 0 : 1) ? 1 : 0;
    ++total;
  }
  EXPECT_DOUBLE_EQ(reported, 100.0 * correct / total);
}

TEST_F(BertEvalTest, QuantizedCheckpointRoundTripGivesTheSameW8a8Number) {
  const fs::path made = *root_ / "out_sst2_made";
  const fs::path saved = *root_ / "sst2_w8a8";
  ASSERT_EQ(run(common("bert_w8a8_sst2", made) + fmt::format(" --model_dir '{}' --save_quantized_model_dir '{}'",
                                                             (*root_ / "seqcls2").string(), saved.string()))
                .exit_code,
            0);
  fs::copy_file(*root_ / "seqcls2" / "vocab.txt", saved / "vocab.txt", fs::copy_options::overwrite_existing);
  const fs::path loaded = *root_ / "out_sst2_loaded";
  const RunResult r = run(common("bert_w8a8_sst2", loaded) + fmt::format(" --quantized_model_dir '{}'", saved.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(results(made).at("w8a8"), results(loaded).at("w8a8"));
  EXPECT_EQ(results(made).at("fp32"), results(loaded).at("fp32"));
}

// --skip_padding: the FP32 rows' metrics unchanged (hf mask), refused under the zoo mask.
TEST_F(BertEvalTest, SkipPaddingKeepsTheFp32MetricsAndNeedsTheHfMask) {
  for (const std::string task : {"mrpc", "squad"}) {
    SCOPED_TRACE(task);
    const std::string args = fmt::format(" --model_dir '{}' --attention_mask hf --qat_epochs 0",
                                         (*root_ / checkpoint_for(task)).string());
    const fs::path padded = *root_ / ("out_padded_" + task), skipped = *root_ / ("out_skipped_" + task);
    ASSERT_EQ(run(common("bert_w8a8_" + task, padded) + args).exit_code, 0);
    const RunResult r = run(common("bert_w8a8_" + task, skipped) + args + " --skip_padding");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(results(skipped).at("fp32"), results(padded).at("fp32"));
    EXPECT_EQ(results(skipped).at("w8a8"), results(padded).at("w8a8"));
    EXPECT_TRUE(results(skipped).at("settings").at("skip_padding").get<bool>());
  }
  const RunResult zoo = run(common("bert_w8a8_mrpc", *root_ / "out_skip_zoo") +
                            fmt::format(" --model_dir '{}' --skip_padding", (*root_ / "seqcls2").string()));
  EXPECT_EQ(zoo.exit_code, 2);
  EXPECT_NE(zoo.err.find("--skip_padding needs --attention_mask hf"), std::string::npos) << zoo.err;
}

// --backend int8: the W8A8 model again with integer Linears; its metric, the largest
// logit difference to the simulation, and what ran as integers, in results.json and
// results.md. A bad value is a one-line error.
TEST_F(BertEvalTest, Int8BackendAddsTheIntegerModelsRow) {
  for (const std::string task : {"mrpc", "squad"}) {
    SCOPED_TRACE(task);
    const fs::path out = *root_ / ("out_int8_" + task);
    const RunResult r = run(common("bert_w8a8_" + task, out) +
                            fmt::format(" --model_dir '{}' --backend int8", (*root_ / checkpoint_for(task)).string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json json = results(out);
    const std::string split = task;
    const double int8 = json.at("headline").at(split).at("int8").get<double>();
    EXPECT_TRUE(std::isfinite(int8));
    const double diff = json.at("int8_max_abs_logit_diff").at(split).get<double>();
    EXPECT_TRUE(std::isfinite(diff));
    EXPECT_LT(diff, 1.0) << "integer Linears should stay close to the simulation";
    EXPECT_GT(json.at("int8_backend").at("integer_linears").get<int64_t>(), 0) << json.at("int8_backend").dump();
    EXPECT_EQ(json.at("settings").at("backend"), "int8");
    EXPECT_NE(read(out / "results.md").find("W8A8 int8 (LibTorch"), std::string::npos);
  }
  const RunResult bad = run(common("bert_w8a8_mrpc", *root_ / "out_int8_bad") +
                            fmt::format(" --model_dir '{}' --backend int4", (*root_ / "seqcls2").string()));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--backend: expected sim or int8"), std::string::npos) << bad.err;
}

// Data-parallel evaluation: scripts/dp-eval.sh starts 2 processes over loopback (c10d
// Gloo); rank 0's results equal a single process's, FP32 and W8A8, classification and
// SQuAD. Bad ranks are one-line errors.
TEST_F(BertEvalTest, TwoProcessesGiveTheSingleProcessResults) {
  for (const std::string task : {"mrpc", "squad"}) {
    SCOPED_TRACE(task);
    const std::string args = fmt::format(" --model_dir '{}'", (*root_ / checkpoint_for(task)).string());
    const fs::path single = *root_ / ("out_single_" + task), parallel = *root_ / ("out_dp_" + task);
    const auto save = [&](const fs::path& out) { return fmt::format(" --save_quantized_model_dir '{}'", (out / "q").string()); };
    ASSERT_EQ(run(common("bert_w8a8_" + task, single) + args + save(single)).exit_code, 0);
    const RunResult r = qsim::test::run_command(
        fmt::format("BERT_EVAL='{}' MASTER_PORT={} bash '{}/scripts/dp-eval.sh' 2 {}{}{} --threads 1", QSIM_BERT_EVAL_BIN,
                    30000 + 2 * (::getpid() % 200) + (task == "squad" ? 1 : 0), QSIM_SOURCE_DIR,
                    common("bert_w8a8_" + task, parallel), args, save(parallel)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(results(parallel).at("fp32"), results(single).at("fp32"));
    EXPECT_EQ(results(parallel).at("w8a8"), results(single).at("w8a8"));
    // Each rank calibrated on its half of the batches; the all-reduced statistics
    // give one process's encodings.
    EXPECT_EQ(read(parallel / "q" / sim::kEncodingsFileName), read(single / "q" / sim::kEncodingsFileName));
    EXPECT_EQ(results(parallel).at("settings").at("world_size"), 2);
  }
  // QAT with averaged gradients runs too (its result equals one process's up to
  // summation order: tests/train DistributedTest).
  const RunResult qat = qsim::test::run_command(fmt::format(
      "BERT_EVAL='{}' MASTER_PORT={} bash '{}/scripts/dp-eval.sh' 2 {} --model_dir '{}' --qat_max_steps 2 --threads 1",
      QSIM_BERT_EVAL_BIN, 30500 + ::getpid() % 400, QSIM_SOURCE_DIR, common("bert_w8a8_mrpc", *root_ / "out_dp_qat"),
      (*root_ / "seqcls2").string()));
  ASSERT_EQ(qat.exit_code, 0) << qat.err;
  EXPECT_EQ(results(*root_ / "out_dp_qat").at("settings").at("qat_max_steps"), 2);
  const RunResult bad = run(common("bert_w8a8_mrpc", *root_ / "out_dp_bad") +
                            fmt::format(" --model_dir '{}' --world_size 2 --rank 2", (*root_ / "seqcls2").string()));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("rank 2 outside [0, world_size 2)"), std::string::npos) << bad.err;
}

TEST_F(BertEvalTest, UnknownModelConfigIsAClearError) {
  const RunResult r = run(common("bert_w8a8_nope", *root_ / "out_bad") + " --model_dir x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown model config 'bert_w8a8_nope'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bert_w8a8_rte"), std::string::npos) << r.err;
}

TEST_F(BertEvalTest, MissingDataFileIsAClearError) {
  const fs::path data = *root_ / "partial_data";
  fs::create_directories(data / "glue");
  const RunResult r = run(fmt::format("--model_config bert_w8a8_cola --data_dir '{}' --model_dir '{}' --output_dir '{}'",
                                      data.string(), (*root_ / "seqcls2").string(), (*root_ / "out_nodata").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CoLA/dev.tsv"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("download"), std::string::npos) << r.err;
}

TEST_F(BertEvalTest, MissingCheckpointIsAClearError) {
  RunResult r = run(common("bert_w8a8_rte", *root_ / "out_nockpt"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model_dir"), std::string::npos) << r.err;
  r = run(common("bert_w8a8_rte", *root_ / "out_nockpt") + fmt::format(" --model_dir '{}'", (*root_ / "nowhere").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nowhere"), std::string::npos) << r.err;
}

TEST_F(BertEvalTest, CheckpointForAnotherTaskIsAClearError) {
  const RunResult r = run(common("bert_w8a8_rte", *root_ / "out_labels") +
                          fmt::format(" --model_dir '{}'", (*root_ / "seqcls3").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("num_labels is 3, task rte needs 2"), std::string::npos) << r.err;
}

TEST_F(BertEvalTest, QuantizedCheckpointWithoutEncodingsIsAClearError) {
  const fs::path saved = *root_ / "rte_w8a8_broken";
  ASSERT_EQ(run(common("bert_w8a8_rte", *root_ / "out_rte_made") +
                fmt::format(" --model_dir '{}' --save_quantized_model_dir '{}'", (*root_ / "seqcls2").string(),
                            saved.string()))
                .exit_code,
            0);
  fs::remove(saved / sim::kEncodingsFileName);
  const RunResult r = run(common("bert_w8a8_rte", *root_ / "out_rte_broken") +
                          fmt::format(" --quantized_model_dir '{}'", saved.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(sim::kEncodingsFileName), std::string::npos) << r.err;
}

// --qat_epochs: range-learning QAT after calibration must move the learned ranges
// (the saved encodings differ from calibration-only ones) and be recorded.
TEST_F(BertEvalTest, QatEpochsTrainTheRangesAfterCalibration) {
  const auto make = [&](const std::string& tag, const std::string& extra) {
    const fs::path out = *root_ / ("out_sst2_" + tag);
    const fs::path saved = *root_ / ("sst2_" + tag);
    const RunResult r = run(common("bert_w8a8_sst2", out) + fmt::format(" --model_dir '{}' --save_quantized_model_dir '{}'{}",
                                                                         (*root_ / "seqcls2").string(), saved.string(), extra));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::make_pair(results(out), nlohmann::json::parse(read(saved / sim::kEncodingsFileName)));
  };
  const auto [ptq, ptq_encodings] = make("ptq", "");
  const auto [qat, qat_encodings] = make("qat", " --qat_epochs 1");
  EXPECT_EQ(ptq.at("settings").at("qat_epochs"), 0);
  EXPECT_EQ(qat.at("settings").at("qat_epochs"), 1);
  EXPECT_EQ(ptq.at("fp32"), qat.at("fp32"));  // QAT works on the W8A8 copy only
  int moved = 0, compared = 0;
  for (const auto& [block, slots] : ptq_encodings.at("activation_encodings").items()) {
    if (!slots.contains("output")) continue;
    for (const auto& [index, encoding] : slots.at("output").items()) {
      const auto& after = qat_encodings.at("activation_encodings").at(block).at("output").at(index);
      ++compared;
      if (after.at("min") != encoding.at("min") || after.at("max") != encoding.at("max")) ++moved;
    }
  }
  EXPECT_GT(compared, 10);
  EXPECT_GT(moved, compared / 2) << "QAT left most activation ranges where calibration put them";
}

// --weight_bw / --act_bw (issue 13): every weight quantizer gets the weight bitwidth,
// every activation quantizer the activation bitwidth, and the export says so.
TEST_F(BertEvalTest, BitwidthFlagsReachEveryQuantizerAndTheExport) {
  const fs::path out = *root_ / "out_sst2_w4a6";
  const fs::path saved = *root_ / "sst2_w4a6";
  const RunResult r = run(common("bert_w8a8_sst2", out) + fmt::format(" --model_dir '{}' --save_quantized_model_dir '{}' "
                                                                       "--weight_bw 4 --act_bw 6",
                                                                       (*root_ / "seqcls2").string(), saved.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json settings = results(out).at("settings");
  EXPECT_EQ(settings.at("param_bitwidth"), 4);
  EXPECT_EQ(settings.at("output_bitwidth"), 6);
  EXPECT_NE(read(out / "results.md").find("W4A6 (qsim)"), std::string::npos);
  const nlohmann::json encodings = nlohmann::json::parse(read(saved / sim::kEncodingsFileName));
  int activations = 0, params = 0;
  for (const auto& [block, slots] : encodings.at("activation_encodings").items()) {
    for (const auto& [slot, indexed] : slots.items()) {
      for (const auto& [index, e] : indexed.items()) {
        EXPECT_EQ(e.at("bitwidth"), 6) << block << "." << slot << "." << index;
        ++activations;
      }
    }
  }
  for (const auto& [name, channels] : encodings.at("param_encodings").items()) {
    for (const auto& e : channels) {
      EXPECT_EQ(e.at("bitwidth"), 4) << name;
      ++params;
    }
  }
  EXPECT_GT(activations, 10);
  EXPECT_GT(params, 10);
}

// The paper's two PTQ fixes from the command line: 16-bit FFN residual activations
// and embedding groups, visible in results.json and in the saved encodings; the
// saved checkpoint evaluates to the same numbers.
TEST_F(BertEvalTest, MixedPrecisionAndPegFlagsReachTheExport) {
  const fs::path out = *root_ / "out_sst2_mp_peg";
  const fs::path saved = *root_ / "sst2_mp_peg";
  const RunResult r = run(common("bert_w8a8_sst2", out) +
                          fmt::format(" --model_dir '{}' --save_quantized_model_dir '{}' --bitwidth_override "
                                      "ffn_residual=16 --peg ffn_residual=2 --peg_permute false",
                                      (*root_ / "seqcls2").string(), saved.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(read(out / "results.md").find("W8A8 +MP +PEG (qsim)"), std::string::npos);
  const nlohmann::json flags = results(out).at("settings").at("sim_flags");
  EXPECT_EQ(flags.at("peg"), nlohmann::json::array({"ffn_residual=2"}));
  EXPECT_EQ(flags.at("peg_permute"), false);
  const nlohmann::json encodings = nlohmann::json::parse(read(saved / sim::kEncodingsFileName));
  const nlohmann::json& add = encodings.at("activation_encodings").at("bert.encoder.layer.0.output.add").at("output").at("0");
  ASSERT_TRUE(add.is_array());
  EXPECT_EQ(add.front().at("bitwidth"), 16);
  // Without the permutation the two groups are the two halves of the hidden axis.
  const std::vector<int64_t> layout =
      encodings.at("embedding_groups").at("bert.encoder.layer.0.output.add").at("output").at("0");
  ASSERT_EQ(layout.size(), add.size());
  for (std::size_t c = 0; c < layout.size(); ++c) EXPECT_EQ(layout[c], c < layout.size() / 2 ? 0 : 1) << c;
  EXPECT_EQ(encodings.at("activation_encodings").at("bert.encoder.layer.0.attention.output.add").at("output").at("0").at("bitwidth"), 8);

  const fs::path again = *root_ / "out_sst2_mp_peg_reload";
  const RunResult reload = run(common("bert_w8a8_sst2", again) + fmt::format(" --quantized_model_dir '{}'", saved.string()));
  ASSERT_EQ(reload.exit_code, 0) << reload.err;
  EXPECT_EQ(results(again).at("headline"), results(out).at("headline"));

  RunResult bad = run(common("bert_w8a8_sst2", *root_ / "out_bad_peg") +
                      fmt::format(" --model_dir '{}' --peg ffn_residual=0", (*root_ / "seqcls2").string()));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--peg 'ffn_residual=0'"), std::string::npos) << bad.err;
  bad = run(common("bert_w8a8_sst2", *root_ / "out_bad_peg") +
            fmt::format(" --model_dir '{}' --bitwidth_override nothing_here=16", (*root_ / "seqcls2").string()));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("'nothing_here' matches no quantizer"), std::string::npos) << bad.err;
  bad = run(common("bert_w8a8_sst2", *root_ / "out_bad_peg") + " --quantized_model_dir somewhere --peg add=2");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--peg"), std::string::npos) << bad.err;
}

TEST_F(BertEvalTest, BadBitwidthFlagsAreClearErrors) {
  const std::string model = fmt::format(" --model_dir '{}'", (*root_ / "seqcls2").string());
  RunResult r = run(common("bert_w8a8_sst2", *root_ / "out_bad_bw") + model + " --weight_bw 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--weight_bw must be in [2, 32] bits, got 1"), std::string::npos) << r.err;
  r = run(common("bert_w8a8_sst2", *root_ / "out_bad_bw") + model + " --act_bw 33");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--act_bw must be in [4, 32] bits, got 33"), std::string::npos) << r.err;
  r = run(common("bert_w8a8_sst2", *root_ / "out_bad_bw") + " --quantized_model_dir somewhere --act_bw 4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--act_bw"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("somewhere"), std::string::npos) << r.err;
}

// bert_train fine-tunes in FP32 and saves a checkpoint that bert_eval evaluates.
TEST_F(BertEvalTest, BertTrainSavesACheckpointBertEvalReads) {
  const fs::path trained = *root_ / "sst2_trained";
  const RunResult t = run_command(fmt::format(
      "'{}' --task sst2 --model_dir '{}' --data_dir '{}' --output_dir '{}' --epochs 2 --batch_size 4 "
      "--learning_rate 1e-3 --threads 1",
      QSIM_BERT_TRAIN_BIN, (*root_ / "seqcls2").string(), (*root_ / "data").string(), trained.string()));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("sst2 dev:"), std::string::npos) << t.out;
  for (const char* file : {"config.json", "model.safetensors", "vocab.txt"}) EXPECT_TRUE(fs::exists(trained / file)) << file;
  // The encoder started from the checkpoint and moved; the head is new.
  const auto before = models::bert::load_pretrained((*root_ / "seqcls2").string());
  const auto after = models::bert::load_pretrained(trained.string());
  const auto name = "bert.encoder.layer.0.attention.self.query.weight";
  const auto w0 = before->named_parameters()[name], w1 = after->named_parameters()[name];
  EXPECT_FALSE(torch::equal(w0, w1));
  EXPECT_LT((w0 - w1).abs().max().item<double>(), 0.5);

  const RunResult e = run(common("bert_w8a8_sst2", *root_ / "out_trained") + fmt::format(" --model_dir '{}'", trained.string()));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_TRUE(results(*root_ / "out_trained").at("fp32").contains("sst2"));
}

TEST_F(BertEvalTest, BertTrainBadInputIsAClearError) {
  RunResult r = run_command(fmt::format("'{}' --task sst2 --output_dir '{}' --data_dir '{}'", QSIM_BERT_TRAIN_BIN,
                                        (*root_ / "never").string(), (*root_ / "data").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model_dir"), std::string::npos) << r.err;
  r = run_command(fmt::format("'{}' --task nope --model_dir '{}' --output_dir '{}'", QSIM_BERT_TRAIN_BIN,
                              (*root_ / "seqcls2").string(), (*root_ / "never").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
}

// bert_demo on any small GLUE task: trains from scratch, writes FP32 and every
// variant's rows (PTQ; QAT for W8A8 and the lower setting), the card's metric and
// reference row, and the FFN residual range report.
TEST_F(BertEvalTest, DemoRunsOnOtherTasksWithTheirMetric) {
  for (const auto& [task, metric] : {std::pair<std::string, std::string>{"stsb", "corr"}, {"mrpc", "f1"}}) {
    const fs::path out = *root_ / ("demo_" + task);
    const RunResult r = run_command(fmt::format(
        "'{}' --task {} --data_dir '{}' --output_dir '{}' --layers 1 --hidden 16 --heads 2 --max_seq_length 16 "
        "--batch_size 4 --epochs 1 --calibrate 1 --qat_steps 2 --threads 1 --initializer_range 0.5",
        QSIM_BERT_DEMO_BIN, task, (*root_ / "data").string(), out.string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = results(out);
    EXPECT_EQ(j.at("task"), task);
    EXPECT_EQ(j.at("metric"), metric);
    EXPECT_TRUE(j.at("fp32").is_number()) << task;
    const nlohmann::json& variants = j.at("variants");
    for (const char* name : {"W8A8", "W8A4"}) {
      EXPECT_TRUE(variants.at(name).at("ptq").is_number()) << task << " " << name;
      EXPECT_TRUE(variants.at(name).at("qat").is_number()) << task << " " << name;
    }
    for (const char* name : {"W8A4 +MP16", "W8A4 +PEG6", "W8A4 +PEG6 (no permutation)"}) {
      EXPECT_TRUE(variants.at(name).at("ptq").is_number()) << task << " " << name;
      EXPECT_FALSE(variants.at(name).contains("qat")) << task << " " << name;
    }
    EXPECT_EQ(j.at("ffn_residual_channel_ranges").size(), 3u) << "one layer: dense, dropout, add";
    EXPECT_TRUE(j.at("reference").contains("fp32"));
    const std::string md = read(out / "results.md");
    for (const char* row : {"W8A8 QAT", "W8A4 PTQ", "W8A4 +MP16 PTQ", "W8A4 +PEG6 PTQ"})
      EXPECT_NE(md.find(row), std::string::npos) << row;
  }
  const RunResult bad = run_command(fmt::format("'{}' --task squad --data_dir '{}' --output_dir '{}'", QSIM_BERT_DEMO_BIN,
                                                (*root_ / "data").string(), (*root_ / "demo_bad").string()));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--task squad"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace qsim::test
