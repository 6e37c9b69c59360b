#include "tsv.hpp"

#include <fstream>
#include <iterator>

#include "detail/check.hpp"

namespace qsim::tasks::detail {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  QSIM_CHECK(in.good(), IoError, "{}: cannot open file", path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  QSIM_CHECK(!in.bad(), IoError, "{}: error while reading", path);
  return content;
}

std::vector<TsvRow> split_tsv(std::string_view content) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (content.substr(0, kBom.size()) == kBom) content.remove_prefix(kBom.size());
  std::vector<TsvRow> rows;
  size_t pos = 0;
  int64_t line = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view text = content.substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    TsvRow row;
    row.line = ++line;
    size_t start = 0;
    while (!text.empty()) {
      const size_t tab = text.find('\t', start);
      if (tab == std::string_view::npos) {
        row.fields.push_back(text.substr(start));
        break;
      }
      row.fields.push_back(text.substr(start, tab - start));
      start = tab + 1;
    }
    rows.push_back(std::move(row));
    pos = end + 1;
  }
  return rows;
}

}  // namespace qsim::tasks::detail
