// SQuAD v1.1 JSON: articles, paragraphs, questions, answers and their offsets.
#include "fuzz/fuzz_support.hpp"
#include "qsim/tasks/squad_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string source = "fuzz-squad.json";
  const std::string text(qsim::fuzz::as_text(data, size));
  qsim::fuzz::expect_clean(source, [&] { (void)qsim::tasks::parse_squad(text, source); });
  return 0;
}
