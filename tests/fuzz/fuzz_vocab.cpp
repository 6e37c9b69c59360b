// vocab.txt: line splitting, stripping, duplicates; then every lookup must agree
// with the token table, and a tokenizer built on it must tokenize its own text.
#include "fuzz/fuzz_support.hpp"
#include "qsim/text/bert_tokenizer.hpp"
#include "qsim/text/vocab.hpp"

namespace {

void check_lookups(const qsim::text::Vocab& vocab) {
  for (int64_t id = 0; id < vocab.size(); ++id) {
    const std::string& token = vocab.token(id);
    const int64_t found = vocab.find(token);
    // A duplicate keeps its last id, so the lookup may land later, never elsewhere.
    if (found < id || vocab.token(found) != token) std::abort();
    if (token.size() > vocab.max_token_bytes()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static qsim::fuzz::InputFile file("vocab.txt");
  const std::string& path = file.write(data, size);
  qsim::fuzz::expect_clean(path, [&] {
    const qsim::text::Vocab vocab = qsim::text::Vocab::from_file(path);
    check_lookups(vocab);
    const qsim::text::BertTokenizer tokenizer(vocab);
    for (int64_t id : tokenizer.tokenize_ids(qsim::fuzz::as_text(data, size))) {
      if (id < 0 || id >= vocab.size()) std::abort();
    }
  });
  return 0;
}
