#include "qsim/text/vocab.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>

#include "detail/check.hpp"

namespace qsim::text {
namespace detail {

// Open-addressing hash table from string_view to id, with the hash and the key's
// location stored in the slot: a lookup touches one slot (usually) and the key bytes,
// instead of the bucket, node and string of std::unordered_map. WordPiece does one
// lookup per candidate piece, so this is the tokenizer's hot loop.
class FlatIndex {
 public:
  void insert_or_assign(std::string_view key, int64_t id) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    Slot& slot = find_slot(key, hash(key));
    if (slot.id < 0) ++count_;
    slot = {hash(key), key.data(), static_cast<uint32_t>(key.size()), id};
  }

  int64_t find(std::string_view key) const {
    if (slots_.empty()) return -1;
    const uint64_t h = hash(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id < 0) return -1;
      if (slot.hash == h && slot.size == key.size() && std::memcmp(slot.data, key.data(), key.size()) == 0) {
        return slot.id;
      }
    }
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    const char* data = nullptr;
    uint32_t size = 0;
    int64_t id = -1;
  };

  static uint64_t hash(std::string_view key) {
    uint64_t h = 14695981039346656037ull;  // FNV-1a
    for (const char c : key) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h ^ (h >> 29);
  }

  Slot& find_slot(std::string_view key, uint64_t h) {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& slot = slots_[i];
      if (slot.id < 0) return slot;
      if (slot.hash == h && slot.size == key.size() && std::memcmp(slot.data, key.data(), key.size()) == 0) {
        return slot;
      }
    }
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(16, old.size() * 2), Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.id >= 0) find_slot(std::string_view(slot.data, slot.size), slot.hash) = slot;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

struct VocabTables {
  std::string source;
  std::vector<std::string> tokens;  // never resized after construction: views stay valid
  FlatIndex ids;
  FlatIndex continuation_ids;  // "##xyz" keyed by "xyz"
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
  for (size_t i = 0; i < tables->tokens.size(); ++i) {
    const std::string_view token = tables->tokens[i];
    const auto id = static_cast<int64_t>(i);
    tables->ids.insert_or_assign(token, id);  // a repeated token keeps its last id, as in the reference
    if (token.size() >= 2 && token.substr(0, 2) == "##") {
      tables->continuation_ids.insert_or_assign(token.substr(2), id);
    }
    tables->max_token_bytes = std::max(tables->max_token_bytes, token.size());
  }
  tables->unk_id = tables->ids.find("[UNK]");
  QSIM_CHECK(tables->unk_id >= 0, ConfigError, "{}: vocab has no '[UNK]' token ({} tokens)",
             tables->source, tables->tokens.size());
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

int64_t Vocab::find(std::string_view token) const { return tables_->ids.find(token); }

int64_t Vocab::find_continuation(std::string_view rest) const {
  return tables_->continuation_ids.find(rest);
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
