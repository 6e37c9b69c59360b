#include "qsim/text/vocab.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "detail/check.hpp"

namespace qsim::text {
namespace detail {

struct VocabTables {
  std::string source;
  std::vector<std::string> tokens;  // never resized after construction: views stay valid
  std::unordered_map<std::string_view, int64_t> ids;
  std::unordered_map<std::string_view, int64_t> continuation_ids;  // "##xyz" keyed by "xyz"
  int64_t unk_id = -1;
  size_t max_token_bytes = 0;
};

}  // namespace detail

namespace {

// Python str.strip() on the ASCII whitespace a vocab line can carry (incl. CRLF).
std::string_view strip(std::string_view line) {
  constexpr std::string_view kSpace = " \t\n\r\v\f\x1c\x1d\x1e\x1f";
  const size_t first = line.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const size_t last = line.find_last_not_of(kSpace);
  return line.substr(first, last - first + 1);
}

}  // namespace

Vocab::Vocab(std::vector<std::string> tokens, std::string source) {
  auto tables = std::make_shared<detail::VocabTables>();
  tables->source = std::move(source);
  tables->tokens = std::move(tokens);
  tables->ids.reserve(tables->tokens.size());
  for (size_t i = 0; i < tables->tokens.size(); ++i) {
    const std::string_view token = tables->tokens[i];
    const auto id = static_cast<int64_t>(i);
    tables->ids[token] = id;  // a repeated token keeps its last id, as in the reference
    if (token.size() >= 2 && token.substr(0, 2) == "##") tables->continuation_ids[token.substr(2)] = id;
    tables->max_token_bytes = std::max(tables->max_token_bytes, token.size());
  }
  const auto unk = tables->ids.find("[UNK]");
  QSIM_CHECK(unk != tables->ids.end(), ConfigError, "{}: vocab has no '[UNK]' token ({} tokens)",
             tables->source, tables->tokens.size());
  tables->unk_id = unk->second;
  tables_ = std::move(tables);
}

Vocab Vocab::from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  QSIM_CHECK(in.good(), IoError, "{}: cannot open vocab file", path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  QSIM_CHECK(!in.bad(), IoError, "{}: error reading vocab file", path);
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string::npos) end = content.size();
    tokens.emplace_back(strip(std::string_view(content).substr(pos, end - pos)));
    pos = end + 1;
  }
  return Vocab(std::move(tokens), path);
}

int64_t Vocab::size() const { return static_cast<int64_t>(tables_->tokens.size()); }

int64_t Vocab::find(std::string_view token) const {
  const auto it = tables_->ids.find(token);
  return it == tables_->ids.end() ? -1 : it->second;
}

int64_t Vocab::find_continuation(std::string_view rest) const {
  const auto it = tables_->continuation_ids.find(rest);
  return it == tables_->continuation_ids.end() ? -1 : it->second;
}

int64_t Vocab::id(std::string_view token) const {
  const int64_t id = find(token);
  QSIM_CHECK(id >= 0, ConfigError, "{}: vocab has no '{}' token", tables_->source, token);
  return id;
}

const std::string& Vocab::token(int64_t id) const {
  return tables_->tokens[static_cast<size_t>(id)];
}

int64_t Vocab::unk_id() const { return tables_->unk_id; }

size_t Vocab::max_token_bytes() const { return tables_->max_token_bytes; }

const std::string& Vocab::source() const { return tables_->source; }

}  // namespace qsim::text
