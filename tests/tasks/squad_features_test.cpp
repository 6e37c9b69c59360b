// Hand-checked run_squad.py feature construction on a tiny vocab (the window
// arithmetic and _check_is_max_context worked out in the comments).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/tasks/squad_features.hpp"
#include "qsim/tasks/squad_reader.hpp"
#include "support/expect_error.hpp"

namespace qsim::tasks {
namespace {

using Ids = std::vector<int64_t>;

text::BertTokenizer tiny_tokenizer() {
  //                 0        1        2        3        4      5      6      7     8      9    10       11
  return text::BertTokenizer(text::Vocab(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "on", "mat", ".", "where", "?"}));
}

SquadExample cat_example() {
  const std::string json = R"({"version": "1.1", "data": [{"paragraphs": [{"context": "The cat sat on the mat.",
      "qas": [{"id": "q", "question": "Where?", "answers": [{"text": "mat", "answer_start": 19}]}]}]}]})";
  return parse_squad(json, "cat.json").examples.at(0);
}

TEST(SquadFeaturesTest, WindowsMapsAndMaxContext) {
  // query = [where ?], doc pieces = the cat sat on the mat . (7)
  // max_tokens_for_doc = 10 - 2 - 3 = 5: spans [0, 5) and, after stride 2, [2, 7).
  SquadFeatureOptions options;
  options.max_seq_length = 10;
  options.doc_stride = 2;
  options.max_query_length = 2;
  const auto features = convert_squad_examples({cat_example()}, tiny_tokenizer(), options);
  ASSERT_EQ(features.size(), 2u);

  EXPECT_EQ(features[0].unique_id, 1000000000);
  EXPECT_EQ(features[1].unique_id, 1000000001);
  EXPECT_EQ(features[1].doc_span_index, 1);
  EXPECT_EQ(features[0].input_ids, (Ids{2, 10, 11, 3, 4, 5, 6, 7, 4, 3}));
  EXPECT_EQ(features[1].input_ids, (Ids{2, 10, 11, 3, 6, 7, 4, 8, 9, 3}));
  EXPECT_EQ(features[0].token_type_ids, (Ids{0, 0, 0, 0, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(features[0].num_tokens, 10);
  EXPECT_EQ(features[0].token_to_orig_map, (Ids{-1, -1, -1, -1, 0, 1, 2, 3, 4, -1}));
  EXPECT_EQ(features[1].token_to_orig_map, (Ids{-1, -1, -1, -1, 2, 3, 4, 5, 5, -1}));
  // piece 2: span0 min(2,2)+0.05 beats span1 0.05; piece 3: 1.05 tie -> first span;
  // piece 4: span0 0.05 loses to span1 2.05.
  EXPECT_EQ(features[0].token_is_max_context, (std::vector<uint8_t>{0, 0, 0, 0, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(features[1].token_is_max_context, (std::vector<uint8_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 0}));
}

TEST(SquadFeaturesTest, PaddingAndQueryTruncation) {
  SquadFeatureOptions options;
  options.max_seq_length = 16;
  options.max_query_length = 1;
  const auto features = convert_squad_examples({cat_example()}, tiny_tokenizer(), options);
  ASSERT_EQ(features.size(), 1u);
  EXPECT_EQ(features[0].input_ids, (Ids{2, 10, 3, 4, 5, 6, 7, 4, 8, 9, 3, 0, 0, 0, 0, 0}));
  EXPECT_EQ(features[0].attention_mask, (Ids{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}));
  EXPECT_EQ(features[0].num_tokens, 11);
}

TEST(SquadFeaturesTest, TrainingTargetsOnlyInTheWindowHoldingTheAnswer) {
  SquadFeatureOptions options;
  options.max_seq_length = 10;
  options.doc_stride = 2;
  options.max_query_length = 2;
  options.is_training = true;
  const auto features = convert_squad_examples({cat_example()}, tiny_tokenizer(), options);
  ASSERT_EQ(features.size(), 2u);
  EXPECT_EQ(features[0].start_position, 0);  // "mat" (piece 5) is outside [0, 5)
  EXPECT_EQ(features[0].end_position, 0);
  // Word "mat." = pieces 5..6, tightened to "mat" = piece 5 -> 5 - 2 + (2 + 2) = 7.
  EXPECT_EQ(features[1].start_position, 7);
  EXPECT_EQ(features[1].end_position, 7);
}

TEST(SquadFeaturesTest, RejectsWindowWithoutRoom) {
  SquadFeatureOptions options;
  options.max_seq_length = 5;
  QSIM_EXPECT_THROW_MSG(convert_squad_examples({cat_example()}, tiny_tokenizer(), options), ConfigError,
                        {"max_seq_length 5", "2 query tokens"});
}

}  // namespace
}  // namespace qsim::tasks
