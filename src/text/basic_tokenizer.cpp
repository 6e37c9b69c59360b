#include "qsim/text/basic_tokenizer.hpp"

#include "qsim/text/unicode.hpp"

namespace qsim::text {
namespace {

constexpr bool is_ascii_punctuation(unsigned char b) {
  return (b >= 33 && b <= 47) || (b >= 58 && b <= 64) || (b >= 91 && b <= 96) ||
         (b >= 123 && b <= 126);
}

}  // namespace

void BasicTokenizer::tokenize(std::string_view text, TokenBuffer& out) const {
  std::string& bytes = out.bytes();
  size_t word_begin = bytes.size();
  bool ascii = true;
  auto flush = [&] {
    if (bytes.size() > word_begin) finish_word(out, word_begin, ascii);
    word_begin = bytes.size();
    ascii = true;
  };
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      ++i;
      if (b == ' ' || b == '\t' || b == '\n' || b == '\r') {
        flush();
      } else if (b >= 0x20 && b != 0x7F) {  // other C0 controls and DEL are dropped
        bytes.push_back(static_cast<char>(b));
      }
      continue;
    }
    const size_t start = i;
    char32_t c = 0;
    if (!next_utf8(text, i, c)) continue;
    if (c == 0xFFFD || is_control_char(c)) continue;
    if (is_whitespace_char(c) || is_python_space(c)) {
      flush();
      continue;
    }
    const bool cjk = is_chinese_char(c);
    if (cjk) flush();
    bytes.append(text.substr(start, i - start));
    ascii = false;
    if (cjk) flush();
  }
  flush();
}

std::vector<std::string> BasicTokenizer::tokenize(std::string_view text) const {
  TokenBuffer buffer;
  tokenize(text, buffer);
  return buffer.to_strings();
}

void BasicTokenizer::finish_word(TokenBuffer& out, size_t begin, bool ascii) const {
  if (!ascii) {
    finish_unicode_word(out, begin);
    return;
  }
  std::string& bytes = out.bytes();
  size_t piece = begin;
  for (size_t k = begin; k < bytes.size(); ++k) {
    const auto b = static_cast<unsigned char>(bytes[k]);
    if (do_lower_case_ && b >= 'A' && b <= 'Z') bytes[k] = static_cast<char>(b + 32);
    if (is_ascii_punctuation(b)) {
      out.add_span(piece, k);
      out.add_span(k, k + 1);
      piece = k + 1;
    }
  }
  out.add_span(piece, bytes.size());
}

void BasicTokenizer::finish_unicode_word(TokenBuffer& out, size_t begin) const {
  std::string& bytes = out.bytes();
  std::u32string word = decode_utf8(std::string_view(bytes).substr(begin));
  bytes.resize(begin);
  if (do_lower_case_) {
    std::u32string lowered;
    append_python_lower(word, lowered);
    std::u32string decomposed;
    append_nfd(lowered, decomposed);
    word.clear();
    for (const char32_t c : decomposed) {
      if (!is_nonspacing_mark(c)) word.push_back(c);
    }
  }
  size_t piece = bytes.size();
  for (const char32_t c : word) {
    if (is_punctuation_char(c)) {
      out.add_span(piece, bytes.size());
      const size_t at = bytes.size();
      append_utf8(c, bytes);
      out.add_span(at, bytes.size());
      piece = bytes.size();
    } else {
      append_utf8(c, bytes);
    }
  }
  out.add_span(piece, bytes.size());
}

}  // namespace qsim::text
