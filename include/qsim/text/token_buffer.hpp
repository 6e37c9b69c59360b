#pragma once

// TokenBuffer: a reusable list of tokens stored back to back in one string.
//
// The basic tokenizer writes every token of a text here instead of allocating one
// std::string per token; after the first few texts, tokenizing allocates nothing.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qsim::text {

class TokenBuffer {
 public:
  /// Removes all tokens, keeping the capacity.
  void clear() {
    bytes_.clear();
    spans_.clear();
  }

  /// Number of tokens.
  size_t size() const { return spans_.size(); }

  bool empty() const { return spans_.empty(); }

  /// Token `i`; valid until the buffer is next modified.
  std::string_view operator[](size_t i) const {
    return std::string_view(bytes_).substr(spans_[i].first, spans_[i].second - spans_[i].first);
  }

  /// Copies the tokens out.
  std::vector<std::string> to_strings() const {
    std::vector<std::string> out;
    out.reserve(size());
    for (size_t i = 0; i < size(); ++i) out.emplace_back((*this)[i]);
    return out;
  }

  /// Raw storage for the tokenizer that fills the buffer.
  std::string& bytes() { return bytes_; }

  /// Marks bytes [begin, end) of bytes() as the next token (ignored when empty).
  void add_span(size_t begin, size_t end) {
    if (end > begin) spans_.emplace_back(begin, end);
  }

 private:
  std::string bytes_;
  std::vector<std::pair<size_t, size_t>> spans_;
};

}  // namespace qsim::text
