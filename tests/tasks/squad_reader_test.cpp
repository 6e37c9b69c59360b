#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "manifest.hpp"
#include "qsim/error.hpp"
#include "qsim/tasks/squad_reader.hpp"
#include "support/expect_error.hpp"
#include "support/paths.hpp"

namespace qsim::tasks {
namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(SquadReaderTest, RealDevSetFromZipHasManifestCounts) {
  const SquadDataset dataset = read_squad(test::data_dir() + "/squad/dev-v1.1.json.zip");
  EXPECT_EQ(dataset.version, "1.1");
  EXPECT_EQ(dataset.num_articles, test::manifest_squad_count("articles"));
  EXPECT_EQ(dataset.num_paragraphs, test::manifest_squad_count("paragraphs"));
  EXPECT_EQ(static_cast<long>(dataset.examples.size()), test::manifest_squad_count("questions"));
  // Every first answer of the dev set lies on doc tokens that contain it.
  for (const auto& example : dataset.examples) {
    ASSERT_FALSE(example.answers.empty()) << example.qas_id;
    EXPECT_GE(example.start_position, 0) << example.qas_id;
    EXPECT_EQ(example.doc_tokens.size(), example.doc_token_starts.size());
  }
}

TEST(SquadReaderTest, SplitsDocTokensOnWhitespaceWithCodePointOffsets) {
  const std::string json = R"({"version": "1.1", "data": [{"title": "t", "paragraphs": [
      {"context": "Caf\u00e9  au\u202flait\tis hot.", "qas": [
        {"id": "q1", "question": "What?", "answers": [{"text": "au", "answer_start": 6},
                                                       {"text": "hot", "answer_start": 17}]}]}]}]})";
  const SquadDataset dataset = parse_squad(json, "inline.json");
  ASSERT_EQ(dataset.examples.size(), 1u);
  const SquadExample& example = dataset.examples[0];
  EXPECT_EQ(example.doc_tokens, (std::vector<std::string>{"Caf\u00e9", "au", "lait", "is", "hot."}));
  EXPECT_EQ(example.doc_token_starts, (std::vector<int64_t>{0, 6, 9, 14, 17}));
  EXPECT_EQ(example.start_position, 1);
  EXPECT_EQ(example.end_position, 1);
  ASSERT_EQ(example.answers.size(), 2u);
  EXPECT_EQ(example.answers[1].answer_start, 17);
}

TEST(SquadReaderTest, AnswerNotOnTokensLeavesNoPosition) {
  const std::string json = R"({"version": "1.1", "data": [{"paragraphs": [
      {"context": "alpha beta", "qas": [{"id": "q", "question": "?", "answers": [{"text": "gamma", "answer_start": 0}]}]}]}]})";
  EXPECT_EQ(parse_squad(json, "x.json").examples.at(0).start_position, -1);
}

TEST(SquadReaderTest, MissingFieldNamesFileAndPath) {
  const std::string path = write_temp("squad_missing.json", R"({"version": "1.1", "data": [{"paragraphs": [
      {"context": "c", "qas": [{"id": "a", "question": "q", "answers": []}, {"question": "q", "answers": []}]}]}]})");
  QSIM_EXPECT_THROW_MSG(read_squad(path), IoError,
                        {"squad_missing.json", "data[0].paragraphs[0].qas[1]", "missing 'id'"});
}

TEST(SquadReaderTest, WrongTypeAndBadJsonAreIoErrors) {
  QSIM_EXPECT_THROW_MSG(parse_squad(R"({"version": "1.1", "data": {}})", "w.json"), IoError,
                        {"w.json", "data", "expected an array"});
  QSIM_EXPECT_THROW_MSG(parse_squad("{\"version\": ", "bad.json"), IoError, {"bad.json", "invalid JSON"});
  QSIM_EXPECT_THROW_MSG(read_squad("/nonexistent/dev.json"), IoError, {"/nonexistent/dev.json"});
  QSIM_EXPECT_THROW_MSG(read_squad(write_temp("notzip.zip", "plain text")), IoError, {"notzip.zip", "zip"});
}

}  // namespace
}  // namespace qsim::tasks
