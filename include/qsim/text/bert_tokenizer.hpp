#pragma once

// BertTokenizer: the full BERT input pipeline (tokenization.py `FullTokenizer`
// plus run_classifier.py `convert_single_example`): basic tokenization, WordPiece,
// [CLS]/[SEP] insertion, token type ids, attention mask, zero padding, and the
// reference pair truncation (`_truncate_seq_pair`: drop the last token of the
// longer sequence, of b on ties, one at a time).
//
// Thread-safe: all methods are const and share only the immutable vocab.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qsim/text/basic_tokenizer.hpp"
#include "qsim/text/bert_input.hpp"
#include "qsim/text/token_buffer.hpp"
#include "qsim/text/vocab.hpp"
#include "qsim/text/wordpiece_tokenizer.hpp"

namespace qsim::text {

struct BertTokenizerOptions {
  bool do_lower_case = true;               ///< uncased models: lower-case and strip accents
  int64_t max_input_chars_per_word = 200;  ///< longer words become [UNK] (reference value)
};

class BertTokenizer {
 public:
  /// Throws ConfigError naming the vocab if it lacks [CLS] or [SEP].
  explicit BertTokenizer(Vocab vocab, BertTokenizerOptions options = {});

  /// Reads the vocab file (see Vocab::from_file).
  static BertTokenizer from_file(const std::string& vocab_path, BertTokenizerOptions options = {});

  /// BasicTokenizer output (before WordPiece).
  std::vector<std::string> basic_tokenize(std::string_view text) const;

  /// Word pieces of `text` (FullTokenizer.tokenize).
  std::vector<std::string> tokenize(std::string_view text) const;

  /// Ids of the word pieces of `text`.
  std::vector<int64_t> tokenize_ids(std::string_view text) const;

  /// Appends the word-piece ids of `text` to `ids`, using `scratch` for the basic
  /// tokens; allocation-free once the buffers have grown.
  void tokenize_ids(std::string_view text, std::vector<int64_t>& ids, TokenBuffer& scratch) const;

  /// `[CLS] a [SEP]`, truncated to keep max_seq_length - 2 pieces, padded.
  BertInput encode(std::string_view text_a, int64_t max_seq_length) const;

  /// `[CLS] a [SEP] b [SEP]`, pair-truncated to max_seq_length - 3 pieces. A text_b
  /// that yields no pieces is encoded as a single sequence, as the reference does.
  BertInput encode(std::string_view text_a, std::optional<std::string_view> text_b,
                   int64_t max_seq_length) const;

  /// [CLS], [SEP] and the ids of word pieces as one padded input (pieces already truncated).
  BertInput build_input(const std::vector<int64_t>& ids_a, const std::vector<int64_t>& ids_b,
                        int64_t max_seq_length) const;

  const Vocab& vocab() const { return wordpiece_.vocab(); }
  const BasicTokenizer& basic_tokenizer() const { return basic_; }
  const WordPieceTokenizer& wordpiece_tokenizer() const { return wordpiece_; }
  int64_t cls_id() const { return cls_id_; }
  int64_t sep_id() const { return sep_id_; }

 private:
  BasicTokenizer basic_;
  WordPieceTokenizer wordpiece_;
  int64_t cls_id_;
  int64_t sep_id_;
};

/// The reference `_truncate_seq_pair`: while len(a) + len(b) > max_length, drop the
/// last element of the longer one (of b when equal).
void truncate_seq_pair(std::vector<int64_t>& a, std::vector<int64_t>& b, size_t max_length);

}  // namespace qsim::text
