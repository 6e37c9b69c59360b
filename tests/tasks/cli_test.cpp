// The `qsim tokenize` and `qsim squad-eval` subcommands, run as the built binary.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/paths.hpp"
#include "support/run_command.hpp"

namespace {

using CliResult = qsim::test::CommandResult;

std::string temp_path(const std::string& name) { return testing::TempDir() + name; }

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

CliResult run_qsim(const std::string& args, const std::string& stdin_text = "") {
  return qsim::test::run_command(std::string("'") + QSIM_TOOL_PATH + "' " + args, stdin_text);
}

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::stringstream stream(text);
  std::string line;
  while (std::getline(stream, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::string vocab_path() { return qsim::test::data_dir() + "/vocab/bert-base-uncased-vocab.txt"; }

TEST(TokenizeCliTest, SingleAndPairLinesMatchGoldenCases) {
  std::ifstream in(qsim::test::golden_dir() + "/tokenizer/wordpiece_bert_base_uncased.json");
  const auto golden = nlohmann::json::parse(in);
  // One single-sentence and one pair case at max_seq_length 128 whose texts have no
  // tab or newline (the CLI's line format).
  std::vector<nlohmann::json> picked;
  for (const auto& c : golden.at("cases")) {
    const std::string a = c.at("text_a").get<std::string>();
    const std::string b = c.at("text_b").is_null() ? "" : c.at("text_b").get<std::string>();
    if (c.at("max_seq_length") != 128 || (a + b).find_first_of("\t\r\n") != std::string::npos) continue;
    const bool pair = !c.at("text_b").is_null();
    if (picked.empty() ? !pair : (pair && picked.size() == 1)) picked.push_back(c);
    if (picked.size() == 2) break;
  }
  ASSERT_EQ(picked.size(), 2u);
  std::string input;
  for (const auto& c : picked) {
    input += c.at("text_a").get<std::string>();
    if (!c.at("text_b").is_null()) input += "\t" + c.at("text_b").get<std::string>();
    input += "\n";
  }
  const CliResult run = run_qsim("tokenize --vocab '" + vocab_path() + "' --max_seq_length 128", input);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = json_lines(run.out);
  ASSERT_EQ(lines.size(), picked.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    for (const char* key : {"tokens", "input_ids", "token_type_ids", "attention_mask"}) {
      EXPECT_EQ(lines[i].at(key), picked[i].at(key)) << key;
    }
  }
}

TEST(TokenizeCliTest, PadsToMaxSeqLength) {
  const CliResult run = run_qsim("tokenize --vocab '" + vocab_path() + "' --max_seq_length 8", "Hello, World!\n");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto lines = json_lines(run.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("tokens"), (std::vector<std::string>{"[CLS]", "hello", ",", "world", "!", "[SEP]"}));
  EXPECT_EQ(lines[0].at("input_ids").size(), 8u);
  EXPECT_EQ(lines[0].at("attention_mask"), (std::vector<int>{1, 1, 1, 1, 1, 1, 0, 0}));
}

TEST(TokenizeCliTest, VocabWithoutUnkFailsNamingTheFile) {
  const std::string vocab = write_temp("cli_vocab_no_unk.txt", "[PAD]\n[CLS]\n[SEP]\n");
  const CliResult run = run_qsim("tokenize --vocab '" + vocab + "' --max_seq_length 8", "x\n");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("cli_vocab_no_unk.txt"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("[UNK]"), std::string::npos) << run.err;
}

TEST(SquadEvalCliTest, MatchesOfficialScriptOnGoldenFile) {
  std::ifstream in(qsim::test::golden_dir() + "/metrics/squad_v1.1.json");
  const auto golden = nlohmann::json::parse(in);
  const std::string dataset = write_temp("cli_dataset.json", golden.at("dataset").dump());
  const std::string predictions = write_temp("cli_predictions.json", golden.at("predictions").dump());
  const CliResult run = run_qsim("squad-eval '" + dataset + "' '" + predictions + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto out = nlohmann::json::parse(run.out);
  EXPECT_NEAR(out.at("exact_match").get<double>(), golden.at("expected_totals").at("exact_match").get<double>(), 1e-9);
  EXPECT_NEAR(out.at("f1").get<double>(), golden.at("expected_totals").at("f1").get<double>(), 1e-9);
  std::string expected_err;
  for (const auto& line : golden.at("cli_stderr")) expected_err += line.get<std::string>() + "\n";
  EXPECT_EQ(run.err, expected_err);
}

TEST(SquadEvalCliTest, PrintsPythonFloatsAndWarnsOnVersion) {
  const std::string dataset = write_temp(
      "cli_v2.json", R"({"version": "2.0", "data": [{"paragraphs": [{"context": "x", "qas": [
        {"id": "a", "question": "?", "answers": [{"text": "Paris", "answer_start": 0}]}]}]}]})");
  const std::string predictions = write_temp("cli_pred_ok.json", R"({"a": "paris"})");
  const CliResult run = run_qsim("squad-eval '" + dataset + "' '" + predictions + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "{\"exact_match\": 100.0, \"f1\": 100.0}\n");
  EXPECT_EQ(run.err, "Evaluation expects v-1.1, but got dataset with v-2.0\n");
}

TEST(SquadEvalCliTest, EmptyPredictionsFileIsAnError) {
  const std::string predictions = write_temp("cli_empty_predictions.json", "");
  const CliResult run = run_qsim("squad-eval '" + qsim::test::data_dir() + "/squad/dev-v1.1.json.zip' '" +
                           predictions + "'");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("cli_empty_predictions.json"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("empty"), std::string::npos) << run.err;
}

TEST(SquadEvalCliTest, MissingFieldNamesFileAndEntry) {
  const std::string dataset = write_temp("cli_missing.json", R"({"version": "1.1", "data": [{"paragraphs": [
      {"qas": []}]}]})");
  const std::string predictions = write_temp("cli_pred_empty_obj.json", "{}");
  const CliResult run = run_qsim("squad-eval '" + dataset + "' '" + predictions + "'");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("cli_missing.json: data[0].paragraphs[0]: missing 'context'"), std::string::npos)
      << run.err;
}

}  // namespace
