// qsim tokenize: BERT-encode lines from stdin, one JSON object per line on stdout.
//   qsim tokenize --vocab vocab.txt --max_seq_length 128 < lines.txt
// Each input line is `text` or `text<TAB>text_pair`.
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "detail/check.hpp"
#include "qsim/text/bert_tokenizer.hpp"

namespace qsim::cli {
namespace {

struct TokenizeArgs {
  std::string vocab;
  int64_t max_seq_length = 128;
  bool cased = false;
};

void run_tokenize(const TokenizeArgs& args) {
  QSIM_CHECK(args.max_seq_length >= 3, ConfigError, "--max_seq_length must be at least 3, got {}",
             args.max_seq_length);
  text::BertTokenizerOptions options;
  options.do_lower_case = !args.cased;
  const auto tokenizer = text::BertTokenizer::from_file(args.vocab, options);
  std::string line;
  while (std::getline(std::cin, line)) {
    const size_t tab = line.find('\t');
    const std::string_view text_a = std::string_view(line).substr(0, tab);
    std::optional<std::string_view> text_b;
    if (tab != std::string::npos) text_b = std::string_view(line).substr(tab + 1);
    const text::BertInput input = tokenizer.encode(text_a, text_b, args.max_seq_length);
    const nlohmann::ordered_json out{{"tokens", input.tokens},
                             {"input_ids", input.input_ids},
                             {"token_type_ids", input.token_type_ids},
                             {"attention_mask", input.attention_mask}};
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = app.add_subcommand("tokenize", "BERT-tokenize stdin lines (text or text<TAB>pair) to JSON lines");
  cmd->add_option("--vocab", args->vocab, "WordPiece vocab.txt")->required();
  cmd->add_option("--max_seq_length", args->max_seq_length, "pad/truncate to this many tokens")
      ->capture_default_str();
  cmd->add_flag("--cased", args->cased, "keep case and accents (cased BERT models)");
  cmd->callback([args] { run_tokenize(*args); });
}

}  // namespace qsim::cli
