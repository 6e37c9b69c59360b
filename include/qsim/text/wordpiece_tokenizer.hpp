#pragma once

// WordPieceTokenizer: BERT's greedy longest-match-first sub-word split
// (tokenization.py `WordpieceTokenizer`). A word is split left to right into the
// longest vocab entries, pieces after the first carrying the "##" prefix. A word
// with more than max_input_chars_per_word code points, or with a position where no
// piece matches, becomes the single "[UNK]".
//
// The google-research reference (which the golden fixtures follow) uses 200 as the
// word-length limit; Hugging Face's port uses 100.

#include <cstdint>
#include <string_view>
#include <vector>

#include "qsim/text/vocab.hpp"

namespace qsim::text {

class WordPieceTokenizer {
 public:
  explicit WordPieceTokenizer(Vocab vocab, int64_t max_input_chars_per_word = 200);

  /// Appends the piece ids of one whitespace-free `word` to `ids`.
  void tokenize_word(std::string_view word, std::vector<int64_t>& ids) const;

  const Vocab& vocab() const { return vocab_; }
  int64_t max_input_chars_per_word() const { return max_input_chars_per_word_; }

 private:
  Vocab vocab_;
  int64_t max_input_chars_per_word_;
};

}  // namespace qsim::text
