#include "qsim/text/wordpiece_tokenizer.hpp"

#include <algorithm>

#include "detail/check.hpp"

namespace qsim::text {
namespace {

bool is_utf8_continuation(char b) { return (static_cast<unsigned char>(b) & 0xC0) == 0x80; }

int64_t count_code_points(std::string_view word) {
  return static_cast<int64_t>(
      std::count_if(word.begin(), word.end(), [](char b) { return !is_utf8_continuation(b); }));
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(Vocab vocab, int64_t max_input_chars_per_word)
    : vocab_(std::move(vocab)), max_input_chars_per_word_(max_input_chars_per_word) {
  QSIM_CHECK(max_input_chars_per_word > 0, ConfigError,
             "max_input_chars_per_word must be positive, got {}", max_input_chars_per_word);
}

void WordPieceTokenizer::tokenize_word(std::string_view word, std::vector<int64_t>& ids) const {
  if (word.empty()) return;
  if (static_cast<int64_t>(word.size()) > max_input_chars_per_word_ &&
      count_code_points(word) > max_input_chars_per_word_) {
    ids.push_back(vocab_.unk_id());
    return;
  }
  const size_t first_piece = ids.size();
  const size_t longest = vocab_.max_token_bytes();
  size_t start = 0;
  while (start < word.size()) {
    // Longest match first: try the whole rest, then shorter prefixes ending on a
    // code point boundary. Nothing longer than the longest vocab entry can match.
    size_t end = std::min(word.size(), start + longest);
    while (end < word.size() && is_utf8_continuation(word[end])) --end;
    int64_t id = -1;
    while (end > start) {
      const std::string_view piece = word.substr(start, end - start);
      id = start == 0 ? vocab_.find(piece) : vocab_.find_continuation(piece);
      if (id >= 0) break;
      do {
        --end;
      } while (end > start && is_utf8_continuation(word[end]));
    }
    if (id < 0) {
      ids.resize(first_piece);
      ids.push_back(vocab_.unk_id());
      return;
    }
    ids.push_back(id);
    start = end;
  }
}

}  // namespace qsim::text
