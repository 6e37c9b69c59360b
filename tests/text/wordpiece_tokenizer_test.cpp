#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/text/wordpiece_tokenizer.hpp"
#include "support/expect_error.hpp"

namespace qsim::text {
namespace {

Vocab small_vocab() {
  return Vocab({"[UNK]", "un", "##want", "##ed", "want", "wa", "##nt", "runn", "##ing", ",",
                "\u00E9t\u00E9", "##\u00E9"});
}

std::vector<std::string> pieces(const WordPieceTokenizer& wp, const std::string& word) {
  std::vector<int64_t> ids;
  wp.tokenize_word(word, ids);
  std::vector<std::string> out;
  for (const int64_t id : ids) out.push_back(wp.vocab().token(id));
  return out;
}

TEST(WordPieceTokenizerTest, GreedyLongestMatch) {
  const WordPieceTokenizer wp(small_vocab());
  EXPECT_EQ(pieces(wp, "unwanted"), (std::vector<std::string>{"un", "##want", "##ed"}));
  EXPECT_EQ(pieces(wp, "want"), (std::vector<std::string>{"want"}));
  EXPECT_EQ(pieces(wp, "running"), (std::vector<std::string>{"runn", "##ing"}));
}

TEST(WordPieceTokenizerTest, NoMatchAnywhereGivesOneUnk) {
  const WordPieceTokenizer wp(small_vocab());
  EXPECT_EQ(pieces(wp, "unwantedx"), (std::vector<std::string>{"[UNK]"}));
  EXPECT_EQ(pieces(wp, "xyz"), (std::vector<std::string>{"[UNK]"}));
}

TEST(WordPieceTokenizerTest, MatchesOnCodePointBoundaries) {
  const WordPieceTokenizer wp(small_vocab());
  EXPECT_EQ(pieces(wp, "\u00E9t\u00E9\u00E9"), (std::vector<std::string>{"\u00E9t\u00E9", "##\u00E9"}));
}

TEST(WordPieceTokenizerTest, OverlongWordIsUnkCountingCodePoints) {
  const WordPieceTokenizer wp(Vocab({"[UNK]", "a", "##a", "\u00E9", "##\u00E9"}), 4);
  EXPECT_EQ(pieces(wp, "aaaa"), (std::vector<std::string>{"a", "##a", "##a", "##a"}));
  EXPECT_EQ(pieces(wp, "aaaaa"), (std::vector<std::string>{"[UNK]"}));
  // four code points but eight bytes: not over the limit
  EXPECT_EQ(pieces(wp, "\u00E9\u00E9\u00E9\u00E9").size(), 4u);
}

TEST(WordPieceTokenizerTest, RejectsNonPositiveLimit) {
  QSIM_EXPECT_THROW_MSG(WordPieceTokenizer(small_vocab(), 0), ConfigError,
                        {"max_input_chars_per_word", "got 0"});
}

}  // namespace
}  // namespace qsim::text
