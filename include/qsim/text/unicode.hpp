#pragma once

// Unicode character predicates exactly as the reference Python code sees them.
//
// The BERT tokenizer (google-research/bert tokenization.py) and the official SQuAD
// evaluation script are defined in terms of Python's `unicodedata` and `str`
// methods. The golden outputs were produced with Python 3.11 (Unicode 14.0.0), while
// Debian's utf8proc implements a newer Unicode version. These helpers use utf8proc's
// tables but report code points assigned after Unicode 14.0 as unassigned (category
// Cn), which is what the reference saw, so results do not drift with the library.

#include <string>
#include <string_view>

namespace qsim::text {

/// The Unicode version the predicates emulate (Python 3.11's unicodedata).
std::string_view reference_unicode_version();

/// The Unicode version of the linked utf8proc tables.
std::string_view library_unicode_version();

/// True when `c` is assigned in the reference Unicode version (category is not Cn).
bool is_assigned(char32_t c);

/// BERT `_is_control`: categories C* except tab, newline and carriage return.
bool is_control_char(char32_t c);

/// BERT `_is_whitespace`: space, tab, newline, carriage return and category Zs.
bool is_whitespace_char(char32_t c);

/// BERT `_is_punctuation`: ASCII 33-47, 58-64, 91-96, 123-126 and categories P*.
bool is_punctuation_char(char32_t c);

/// BERT `_is_chinese_char`: the CJK Unified Ideograph blocks the reference lists.
bool is_chinese_char(char32_t c);

/// Category Mn (what BERT's accent stripping removes after NFD).
bool is_nonspacing_mark(char32_t c);

/// Python `str.isspace`: bidirectional class WS, B or S, or category Zs.
bool is_python_space(char32_t c);

/// Python `re` `\w` for str patterns: letters, numbers and the underscore.
bool is_python_word_char(char32_t c);

/// Appends Python `str.lower()` of `text` to `out`, including the full mapping of
/// U+0130 and the Final_Sigma rule for U+03A3.
void append_python_lower(std::u32string_view text, std::u32string& out);

/// Appends the canonical decomposition (NFD) of `text` to `out`.
void append_nfd(std::u32string_view text, std::u32string& out);

/// Decodes the code point at text[pos] and advances pos past it. On an invalid
/// sequence it advances one byte and returns false (the byte is to be dropped).
bool next_utf8(std::string_view text, size_t& pos, char32_t& c);

/// Decodes UTF-8, dropping invalid bytes as Python's `decode("utf-8", "ignore")` does.
std::u32string decode_utf8(std::string_view text);

/// Appends the UTF-8 encoding of `c` to `out`.
void append_utf8(char32_t c, std::string& out);

/// UTF-8 encoding of `text`.
std::string encode_utf8(std::u32string_view text);

}  // namespace qsim::text
