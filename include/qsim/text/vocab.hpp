#pragma once

// Vocab: the WordPiece vocabulary (one token per line, id = 0-based line number),
// read the way the reference `load_vocab` reads it: each line is stripped of
// surrounding whitespace and a token that appears twice keeps its last id.
//
// Lookups take string_views and never allocate: tokenize hot loops call them once
// per candidate word piece. Continuation pieces ("##xyz") are also indexed by their
// remainder ("xyz") so WordPiece can look them up without building "##" + substr.
// Copies share the same immutable tables.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace qsim::text {

namespace detail {
struct VocabTables;
}  // namespace detail

class Vocab {
 public:
  /// Builds a vocab from tokens in id order. `source` names it in error messages.
  /// Throws ConfigError if there is no "[UNK]" token.
  explicit Vocab(std::vector<std::string> tokens, std::string source = "<memory>");

  /// Reads vocab.txt. Throws IoError if the file cannot be read, ConfigError if it
  /// has no "[UNK]" token.
  static Vocab from_file(const std::string& path);

  /// Number of ids (lines).
  int64_t size() const;

  /// Id of `token`, or -1 if it is not in the vocab.
  int64_t find(std::string_view token) const;

  /// Id of "##" + `rest`, or -1 if it is not in the vocab.
  int64_t find_continuation(std::string_view rest) const;

  /// Id of `token`; throws ConfigError naming the vocab file if it is missing.
  int64_t id(std::string_view token) const;

  /// Token string of `id` (0 <= id < size()).
  const std::string& token(int64_t id) const;

  /// Id of "[UNK]".
  int64_t unk_id() const;

  /// Length in bytes of the longest token (bounds WordPiece's longest-match search).
  size_t max_token_bytes() const;

  /// Where the vocab came from (file path or "<memory>").
  const std::string& source() const;

 private:
  std::shared_ptr<const detail::VocabTables> tables_;
};

}  // namespace qsim::text
