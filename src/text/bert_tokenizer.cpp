#include "qsim/text/bert_tokenizer.hpp"

#include <charconv>
#include <cstdlib>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/text/unicode.hpp"

namespace qsim::text {
namespace {

// utf8proc tables newer than the ones the exclusion list in unicode.cpp covers would
// silently classify characters the reference considers unassigned.
void warn_if_unicode_newer_than_known() {
  static const bool warned = [] {
    const std::string_view version = library_unicode_version();
    int major = 0;
    std::from_chars(version.data(), version.data() + version.size(), major);
    if (major > 15) {
      logger()->warn(
          "utf8proc implements Unicode {}; the tokenizer emulates Unicode {} and only knows the "
          "characters added up to 15.0, so newer characters may tokenize differently",
          version, reference_unicode_version());
    }
    return true;
  }();
  (void)warned;
}

}  // namespace

BertTokenizer::BertTokenizer(Vocab vocab, BertTokenizerOptions options)
    : basic_(options.do_lower_case),
      wordpiece_(vocab, options.max_input_chars_per_word),
      cls_id_(vocab.id("[CLS]")),
      sep_id_(vocab.id("[SEP]")) {
  warn_if_unicode_newer_than_known();
}

BertTokenizer BertTokenizer::from_file(const std::string& vocab_path, BertTokenizerOptions options) {
  return BertTokenizer(Vocab::from_file(vocab_path), options);
}

std::vector<std::string> BertTokenizer::basic_tokenize(std::string_view text) const {
  return basic_.tokenize(text);
}

void BertTokenizer::tokenize_ids(std::string_view text, std::vector<int64_t>& ids,
                                 TokenBuffer& scratch) const {
  scratch.clear();
  basic_.tokenize(text, scratch);
  for (size_t i = 0; i < scratch.size(); ++i) wordpiece_.tokenize_word(scratch[i], ids);
}

std::vector<int64_t> BertTokenizer::tokenize_ids(std::string_view text) const {
  std::vector<int64_t> ids;
  TokenBuffer scratch;
  tokenize_ids(text, ids, scratch);
  return ids;
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> pieces;
  for (const int64_t id : tokenize_ids(text)) pieces.push_back(vocab().token(id));
  return pieces;
}

BertInput BertTokenizer::encode(std::string_view text_a, int64_t max_seq_length) const {
  return encode(text_a, std::nullopt, max_seq_length);
}

BertInput BertTokenizer::encode(std::string_view text_a, std::optional<std::string_view> text_b,
                                int64_t max_seq_length) const {
  thread_local TokenBuffer scratch;  // reused across calls: no per-call token storage
  std::vector<int64_t> ids_a;
  std::vector<int64_t> ids_b;
  tokenize_ids(text_a, ids_a, scratch);
  if (text_b) tokenize_ids(*text_b, ids_b, scratch);
  if (!ids_b.empty()) {
    QSIM_CHECK(max_seq_length >= 3, ConfigError,
               "max_seq_length must be at least 3 for a text pair, got {}", max_seq_length);
    truncate_seq_pair(ids_a, ids_b, static_cast<size_t>(max_seq_length - 3));
  } else {
    QSIM_CHECK(max_seq_length >= 2, ConfigError, "max_seq_length must be at least 2, got {}",
               max_seq_length);
    if (ids_a.size() > static_cast<size_t>(max_seq_length - 2)) {
      ids_a.resize(static_cast<size_t>(max_seq_length - 2));
    }
  }
  return build_input(ids_a, ids_b, max_seq_length);
}

BertInput BertTokenizer::build_input(const std::vector<int64_t>& ids_a,
                                     const std::vector<int64_t>& ids_b,
                                     int64_t max_seq_length) const {
  const size_t used = ids_a.size() + 2 + (ids_b.empty() ? 0 : ids_b.size() + 1);
  QSIM_CHECK(used <= static_cast<size_t>(max_seq_length), ConfigError,
             "{} tokens do not fit max_seq_length {}", used, max_seq_length);
  BertInput input;
  const auto length = static_cast<size_t>(max_seq_length);
  input.tokens.reserve(used);
  input.input_ids.reserve(length);
  input.token_type_ids.reserve(length);
  input.attention_mask.reserve(length);
  auto push = [&](int64_t id, int64_t type) {
    input.tokens.push_back(vocab().token(id));
    input.input_ids.push_back(id);
    input.token_type_ids.push_back(type);
    input.attention_mask.push_back(1);
  };
  push(cls_id_, 0);
  for (const int64_t id : ids_a) push(id, 0);
  push(sep_id_, 0);
  if (!ids_b.empty()) {
    for (const int64_t id : ids_b) push(id, 1);
    push(sep_id_, 1);
  }
  input.input_ids.resize(length, 0);
  input.token_type_ids.resize(length, 0);
  input.attention_mask.resize(length, 0);
  return input;
}

void truncate_seq_pair(std::vector<int64_t>& a, std::vector<int64_t>& b, size_t max_length) {
  while (a.size() + b.size() > max_length) {
    if (a.size() > b.size()) {
      a.pop_back();
    } else {
      b.pop_back();
    }
  }
}

}  // namespace qsim::text
