#include <string>

#include <gtest/gtest.h>

#include "qsim/text/unicode.hpp"

namespace qsim::text {
namespace {

TEST(UnicodeTest, ControlCharactersFollowBert) {
  EXPECT_FALSE(is_control_char(U'\t'));
  EXPECT_FALSE(is_control_char(U'\n'));
  EXPECT_FALSE(is_control_char(U'\r'));
  EXPECT_TRUE(is_control_char(0x0001));
  EXPECT_TRUE(is_control_char(0x200B));  // ZERO WIDTH SPACE is Cf
  EXPECT_TRUE(is_control_char(0x00AD));  // SOFT HYPHEN is Cf
  EXPECT_TRUE(is_control_char(0xE000));  // private use
  EXPECT_FALSE(is_control_char(U'a'));
}

TEST(UnicodeTest, CharactersNewerThanTheReferenceAreUnassigned) {
  // U+31350 (CJK Ext H) and U+1FA75 (emoji) arrived in Unicode 15.0; Python 3.11's
  // unicodedata 14.0 calls them Cn, so the reference drops them as control characters.
  EXPECT_FALSE(is_assigned(0x31350));
  EXPECT_TRUE(is_control_char(0x31350));
  EXPECT_TRUE(is_control_char(0x1FA75));
  EXPECT_TRUE(is_assigned(0x1FA74));  // Unicode 14.0
  EXPECT_FALSE(is_control_char(0x1FA74));
  EXPECT_TRUE(is_control_char(0x0378));  // unassigned everywhere
}

TEST(UnicodeTest, WhitespaceAndPythonSpace) {
  EXPECT_TRUE(is_whitespace_char(0x00A0));  // NBSP is Zs
  EXPECT_TRUE(is_whitespace_char(0x3000));
  EXPECT_FALSE(is_whitespace_char(0x2028));  // Zl: not BERT whitespace...
  EXPECT_TRUE(is_python_space(0x2028));      // ...but str.split() splits on it
  EXPECT_TRUE(is_python_space(0x001F));
  EXPECT_TRUE(is_python_space(0x0085));
  EXPECT_FALSE(is_python_space(0x200B));
}

TEST(UnicodeTest, PunctuationIncludesAsciiSymbolsAndUnicodeP) {
  for (const char32_t c : std::u32string(U"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")) {
    EXPECT_TRUE(is_punctuation_char(c)) << static_cast<uint32_t>(c);
  }
  EXPECT_TRUE(is_punctuation_char(0x2013));   // EN DASH, Pd
  EXPECT_TRUE(is_punctuation_char(0x00BF));   // INVERTED QUESTION MARK, Po
  EXPECT_FALSE(is_punctuation_char(0x00A9));  // COPYRIGHT SIGN is So
  EXPECT_FALSE(is_punctuation_char(0x20AC));  // EURO SIGN is Sc, not punctuation
  EXPECT_FALSE(is_punctuation_char(U'a'));
}

TEST(UnicodeTest, ChineseCharactersAreTheReferenceBlocks) {
  EXPECT_TRUE(is_chinese_char(0x4E2D));
  EXPECT_TRUE(is_chinese_char(0xF900));
  EXPECT_FALSE(is_chinese_char(0x3042));  // Hiragana
  EXPECT_FALSE(is_chinese_char(0xAC00));  // Hangul
}

TEST(UnicodeTest, PythonLowerHandlesSpecialCases) {
  std::u32string out;
  append_python_lower(U"\u0130STANBUL", out);
  EXPECT_EQ(out, U"i\u0307stanbul");
  out.clear();
  append_python_lower(U"\u039F\u0394\u039F\u03A3 \u03A3", out);  // ΟΔΟΣ Σ
  EXPECT_EQ(out, U"\u03BF\u03B4\u03BF\u03C2 \u03C3");
  out.clear();
  append_python_lower(U"\u03A3\u0391", out);  // initial sigma stays σ
  EXPECT_EQ(out, U"\u03C3\u03B1");
}

TEST(UnicodeTest, NfdDecomposesAndOrdersMarks) {
  std::u32string out;
  append_nfd(U"\u00E9\uAC00", out);  // é, Hangul syllable GA
  EXPECT_EQ(out, U"e\u0301\u1100\u1161");
  out.clear();
  append_nfd(U"a\u0301\u0316", out);  // acute (230) before grave below (220): reordered
  EXPECT_EQ(out, U"a\u0316\u0301");
}

TEST(UnicodeTest, Utf8RoundTripAndInvalidBytesDropped) {
  const std::u32string text = U"a\u00E9\u4E2D\U0001F600";
  EXPECT_EQ(decode_utf8(encode_utf8(text)), text);
  EXPECT_EQ(decode_utf8("a\xff" "b\xe4\xb8" "c\xed\xa0\x80" "d"), U"abcd");
}

TEST(UnicodeTest, PythonWordCharacters) {
  EXPECT_TRUE(is_python_word_char(U'_'));
  EXPECT_TRUE(is_python_word_char(0x00E9));
  EXPECT_TRUE(is_python_word_char(0x0663));  // ARABIC-INDIC DIGIT THREE
  EXPECT_FALSE(is_python_word_char(0x0301));  // combining mark
  EXPECT_FALSE(is_python_word_char(U'-'));
}

}  // namespace
}  // namespace qsim::text
