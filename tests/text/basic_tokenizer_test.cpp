#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "qsim/text/basic_tokenizer.hpp"

namespace qsim::text {
namespace {

using Tokens = std::vector<std::string>;

Tokens uncased(const std::string& text) { return BasicTokenizer(true).tokenize(text); }

TEST(BasicTokenizerTest, SplitsOnWhitespaceAndPunctuation) {
  EXPECT_EQ(uncased(" \tHeLLo!how  \n Are yoU?  "), (Tokens{"hello", "!", "how", "are", "you", "?"}));
  EXPECT_EQ(uncased("don't"), (Tokens{"don", "'", "t"}));
  EXPECT_EQ(uncased("a$b^c`d~"), (Tokens{"a", "$", "b", "^", "c", "`", "d", "~"}));
}

TEST(BasicTokenizerTest, StripsAccentsWhenLowerCasing) {
  EXPECT_EQ(uncased("H\u00E9llo Cr\u00E8me"), (Tokens{"hello", "creme"}));
  EXPECT_EQ(uncased("e\u0301"), (Tokens{"e"}));   // combining acute removed
  EXPECT_EQ(uncased("\u0301"), (Tokens{}));       // a word of marks only disappears
}

TEST(BasicTokenizerTest, CasedKeepsCaseAndAccents) {
  EXPECT_EQ(BasicTokenizer(false).tokenize("H\u00E9llo World!"), (Tokens{"H\u00E9llo", "World", "!"}));
}

TEST(BasicTokenizerTest, CleansControlCharacters) {
  EXPECT_EQ(uncased(std::string("ab\x01" "cd\x7f" "e", 7)), (Tokens{"abcde"}));
  EXPECT_EQ(uncased(std::string("a\0b", 3)), (Tokens{"ab"}));
  EXPECT_EQ(uncased("a\uFFFDb"), (Tokens{"ab"}));
  EXPECT_EQ(uncased("zero\u200Bwidth"), (Tokens{"zerowidth"}));
  EXPECT_EQ(uncased("bad\xff" "utf8"), (Tokens{"badutf8"}));
}

TEST(BasicTokenizerTest, UnicodeWhitespaceSeparates) {
  EXPECT_EQ(uncased("a\u00A0b\u3000c\u2028d"), (Tokens{"a", "b", "c", "d"}));
}

TEST(BasicTokenizerTest, ChineseCharactersAreSpaced) {
  EXPECT_EQ(uncased("ab\u4E2D\u6587cd"), (Tokens{"ab", "\u4E2D", "\u6587", "cd"}));
  // Hiragana is not in the CJK blocks: it stays in the word.
  EXPECT_EQ(uncased("\u3072\u3089\u304C\u306A"), (Tokens{"\u3072\u3089\u304B\u306A"}));
}

TEST(BasicTokenizerTest, UnicodePunctuationSplits) {
  EXPECT_EQ(uncased("Kim\u2013you\u00BFs\u00ED?"), (Tokens{"kim", "\u2013", "you", "\u00BF", "si", "?"}));
  // Symbols (So, Sc) are not punctuation.
  EXPECT_EQ(uncased("5\u20AC\u00A9x"), (Tokens{"5\u20AC\u00A9x"}));
}

TEST(BasicTokenizerTest, GreekFinalSigma) {
  EXPECT_EQ(uncased("\u039F\u0394\u039F\u03A3"), (Tokens{"\u03BF\u03B4\u03BF\u03C2"}));
}

TEST(BasicTokenizerTest, ReusedBufferAppends) {
  BasicTokenizer tokenizer;
  TokenBuffer buffer;
  tokenizer.tokenize("One two", buffer);
  tokenizer.tokenize("Thr\u00E9e", buffer);
  ASSERT_EQ(buffer.size(), 3u);
  EXPECT_EQ(buffer[2], "three");
  buffer.clear();
  EXPECT_TRUE(buffer.empty());
}

}  // namespace
}  // namespace qsim::text
