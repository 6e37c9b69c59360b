#pragma once

// BasicTokenizer: BERT's pre-WordPiece step (google-research/bert tokenization.py,
// `BasicTokenizer`), reproduced rule for rule:
//   1. clean: drop NUL, U+FFFD, invalid UTF-8 and control characters (categories C*
//      except \t \n \r); map whitespace (\t \n \r, space, Zs) to a space;
//   2. put spaces around CJK ideographs;
//   3. split on whitespace (Python str.split());
//   4. per word, if do_lower_case: Python str.lower(), then NFD and drop Mn marks
//      (accent stripping);
//   5. split every punctuation character (ASCII punctuation ranges or category P*)
//      into its own token.
// ASCII bytes take a fast path that never calls into utf8proc.

#include <string>
#include <string_view>
#include <vector>

#include "qsim/text/token_buffer.hpp"

namespace qsim::text {

class BasicTokenizer {
 public:
  /// do_lower_case = true is the uncased BERT model (lower-casing and accent stripping).
  explicit BasicTokenizer(bool do_lower_case = true) : do_lower_case_(do_lower_case) {}

  /// Appends the tokens of `text` to `out`.
  void tokenize(std::string_view text, TokenBuffer& out) const;

  /// The tokens of `text` as strings (convenience; allocates).
  std::vector<std::string> tokenize(std::string_view text) const;

  bool do_lower_case() const { return do_lower_case_; }

 private:
  void finish_word(TokenBuffer& out, size_t begin, bool ascii) const;
  void finish_unicode_word(TokenBuffer& out, size_t begin) const;

  bool do_lower_case_;
};

}  // namespace qsim::text
