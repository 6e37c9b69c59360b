// Every case of golden/tokenizer/wordpiece_bert_base_uncased.json (the original
// google-research/bert tokenizer on real GLUE sentences) must match exactly.
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "qsim/text/bert_tokenizer.hpp"
#include "support/paths.hpp"

namespace qsim::text {
namespace {

nlohmann::json load_golden() {
  const std::string path = test::golden_dir() + "/tokenizer/wordpiece_bert_base_uncased.json";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return nlohmann::json::parse(in);
}

const BertTokenizer& bert_base_uncased() {
  static const BertTokenizer tokenizer =
      BertTokenizer::from_file(test::data_dir() + "/vocab/bert-base-uncased-vocab.txt");
  return tokenizer;
}

std::optional<std::string> optional_text(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  return value.get<std::string>();
}

TEST(GoldenTokenizerTest, VocabMatchesTheOneTheGoldenUsed) {
  const auto golden = load_golden();
  EXPECT_EQ(bert_base_uncased().vocab().size(), golden.at("vocab").at("size").get<int64_t>());
}

TEST(GoldenTokenizerTest, EveryCaseMatchesExactly) {
  const auto golden = load_golden();
  const auto& cases = golden.at("cases");
  ASSERT_FALSE(cases.empty());
  const BertTokenizer& tokenizer = bert_base_uncased();
  int mismatches = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("id").get<std::string>());
    const std::string text_a = c.at("text_a").get<std::string>();
    const std::optional<std::string> text_b = optional_text(c.at("text_b"));
    const auto max_seq_length = c.at("max_seq_length").get<int64_t>();

    EXPECT_EQ(tokenizer.basic_tokenize(text_a), c.at("basic_tokens_a").get<std::vector<std::string>>());
    EXPECT_EQ(tokenizer.tokenize(text_a), c.at("wordpieces_a").get<std::vector<std::string>>());
    if (text_b) {
      EXPECT_EQ(tokenizer.basic_tokenize(*text_b), c.at("basic_tokens_b").get<std::vector<std::string>>());
      EXPECT_EQ(tokenizer.tokenize(*text_b), c.at("wordpieces_b").get<std::vector<std::string>>());
    }
    const BertInput input = text_b ? tokenizer.encode(text_a, std::string_view(*text_b), max_seq_length)
                                   : tokenizer.encode(text_a, max_seq_length);
    const bool same = input.tokens == c.at("tokens").get<std::vector<std::string>>() &&
                      input.input_ids == c.at("input_ids").get<std::vector<int64_t>>() &&
                      input.token_type_ids == c.at("token_type_ids").get<std::vector<int64_t>>() &&
                      input.attention_mask == c.at("attention_mask").get<std::vector<int64_t>>();
    EXPECT_TRUE(same);
    EXPECT_EQ(input.tokens, c.at("tokens").get<std::vector<std::string>>());
    EXPECT_EQ(input.input_ids, c.at("input_ids").get<std::vector<int64_t>>());
    EXPECT_EQ(input.token_type_ids, c.at("token_type_ids").get<std::vector<int64_t>>());
    EXPECT_EQ(input.attention_mask, c.at("attention_mask").get<std::vector<int64_t>>());
    if (!same) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0) << "of " << cases.size() << " cases";
}

}  // namespace
}  // namespace qsim::text
