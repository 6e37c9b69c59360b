#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/text/bert_tokenizer.hpp"
#include "support/expect_error.hpp"

namespace qsim::text {
namespace {

using Strings = std::vector<std::string>;
using Ids = std::vector<int64_t>;

BertTokenizer small_tokenizer() {
  return BertTokenizer(Vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b", "c", "d", "e", "x", "y"}));
}

TEST(BertTokenizerTest, SingleSequenceIsWrappedAndPadded) {
  const BertInput input = small_tokenizer().encode("A b", 6);
  EXPECT_EQ(input.tokens, (Strings{"[CLS]", "a", "b", "[SEP]"}));
  EXPECT_EQ(input.input_ids, (Ids{2, 4, 5, 3, 0, 0}));
  EXPECT_EQ(input.token_type_ids, (Ids{0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(input.attention_mask, (Ids{1, 1, 1, 1, 0, 0}));
}

TEST(BertTokenizerTest, SingleSequenceKeepsFirstTokens) {
  const BertInput input = small_tokenizer().encode("a b c d e", 5);
  EXPECT_EQ(input.tokens, (Strings{"[CLS]", "a", "b", "c", "[SEP]"}));
  EXPECT_EQ(input.attention_mask, (Ids{1, 1, 1, 1, 1}));
}

TEST(BertTokenizerTest, PairHasSegmentIds) {
  const BertInput input = small_tokenizer().encode("a b", std::string_view("x"), 8);
  EXPECT_EQ(input.tokens, (Strings{"[CLS]", "a", "b", "[SEP]", "x", "[SEP]"}));
  EXPECT_EQ(input.token_type_ids, (Ids{0, 0, 0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(input.attention_mask, (Ids{1, 1, 1, 1, 1, 1, 0, 0}));
}

TEST(BertTokenizerTest, PairTruncationTrimsTheLongerOneTokenAtATime) {
  // a has 5, b has 2, budget 9-3 = 6: drop one from a.
  BertInput input = small_tokenizer().encode("a b c d e", std::string_view("x y"), 9);
  EXPECT_EQ(input.tokens, (Strings{"[CLS]", "a", "b", "c", "d", "[SEP]", "x", "y", "[SEP]"}));
  // budget 4 with 5 + 2: a shrinks to 2, then ties drop from b first.
  input = small_tokenizer().encode("a b c d e", std::string_view("x y"), 6);
  EXPECT_EQ(input.tokens, (Strings{"[CLS]", "a", "b", "[SEP]", "x", "[SEP]"}));
}

TEST(BertTokenizerTest, TruncateSeqPairPopsFromBOnTies) {
  Ids a{1, 2, 3};
  Ids b{4, 5, 6};
  truncate_seq_pair(a, b, 3);
  EXPECT_EQ(a, (Ids{1, 2}));
  EXPECT_EQ(b, (Ids{4}));
}

TEST(BertTokenizerTest, EmptySecondTextIsASingleSequence) {
  const BertInput input = small_tokenizer().encode("a b c d", std::string_view(" \u200B "), 5);
  EXPECT_EQ(input.tokens, (Strings{"[CLS]", "a", "b", "c", "[SEP]"}));
}

TEST(BertTokenizerTest, UnknownWordsBecomeUnk) {
  EXPECT_EQ(small_tokenizer().tokenize("a zzz b"), (Strings{"a", "[UNK]", "b"}));
}

TEST(BertTokenizerTest, RejectsTooShortMaxSeqLength) {
  QSIM_EXPECT_THROW_MSG(small_tokenizer().encode("a", 1), ConfigError, {"max_seq_length", "got 1"});
  QSIM_EXPECT_THROW_MSG(small_tokenizer().encode("a", std::string_view("b"), 2), ConfigError,
                        {"max_seq_length", "got 2"});
}

TEST(BertTokenizerTest, RequiresClsAndSep) {
  QSIM_EXPECT_THROW_MSG(BertTokenizer(Vocab({"[UNK]", "[SEP]"}, "v.txt")), ConfigError,
                        {"v.txt", "[CLS]"});
}

}  // namespace
}  // namespace qsim::text
