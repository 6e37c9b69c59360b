// The BERT tokenizer on arbitrary bytes (invalid UTF-8, control characters,
// combining marks, CJK), with the real bert-base-uncased vocab: QSIM_FUZZ_VOCAB,
// else $QSIM_DATA_DIR/vocab/bert-base-uncased-vocab.txt. A tab splits the input
// into a sentence pair for encode().
#include <cstdlib>

#include "fuzz/fuzz_support.hpp"
#include "qsim/text/bert_tokenizer.hpp"

namespace {

std::string vocab_path() {
  if (const char* path = std::getenv("QSIM_FUZZ_VOCAB")) return path;
  const char* data = std::getenv("QSIM_DATA_DIR");
  if (data == nullptr) {
    std::fprintf(stderr, "fuzz_tokenizer: set QSIM_FUZZ_VOCAB or QSIM_DATA_DIR\n");
    std::exit(2);
  }
  return std::string(data) + "/vocab/bert-base-uncased-vocab.txt";
}

const qsim::text::BertTokenizer& tokenizer(bool lower_case) {
  static const qsim::text::Vocab vocab = qsim::text::Vocab::from_file(vocab_path());
  static const qsim::text::BertTokenizer uncased(vocab, {true, 200});
  static const qsim::text::BertTokenizer cased(vocab, {false, 200});
  return lower_case ? uncased : cased;
}

void check_input(const qsim::text::BertInput& input, int64_t length, int64_t vocab_size) {
  if (static_cast<int64_t>(input.input_ids.size()) != length) std::abort();
  for (int64_t id : input.input_ids) {
    if (id < 0 || id >= vocab_size) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = qsim::fuzz::as_text(data, size);
  const std::size_t tab = text.find('\t');
  const std::string_view a = text.substr(0, tab);
  const std::optional<std::string_view> b =
      tab == std::string_view::npos ? std::nullopt : std::optional<std::string_view>(text.substr(tab + 1));
  for (bool lower_case : {true, false}) {
    const qsim::text::BertTokenizer& t = tokenizer(lower_case);
    for (const std::string& piece : t.tokenize(text)) {
      if (piece.empty()) std::abort();
    }
    check_input(t.encode(a, b, 64), 64, t.vocab().size());
  }
  return 0;
}
