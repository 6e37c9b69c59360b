#include "qsim/tasks/squad_reader.hpp"

#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <zip.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/text/unicode.hpp"
#include "tsv.hpp"

namespace qsim::tasks {
namespace {

using nlohmann::json;

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_zip_member(const std::string& path) {
  int error = 0;
  std::unique_ptr<zip_t, decltype(&zip_close)> archive(zip_open(path.c_str(), ZIP_RDONLY, &error),
                                                       &zip_close);
  QSIM_CHECK(archive != nullptr, IoError, "{}: cannot open zip archive (libzip error {})", path, error);
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  zip_int64_t member = -1;
  for (zip_int64_t i = 0; i < entries; ++i) {
    const std::string name = zip_get_name(archive.get(), static_cast<zip_uint64_t>(i), 0);
    if (ends_with(name, ".json") && name.find("__MACOSX") == std::string::npos) {
      QSIM_CHECK(member < 0, IoError, "{}: more than one .json member", path);
      member = i;
    }
  }
  QSIM_CHECK(member >= 0, IoError, "{}: no .json member in the zip archive", path);
  zip_stat_t stat;
  zip_stat_init(&stat);
  QSIM_CHECK(zip_stat_index(archive.get(), static_cast<zip_uint64_t>(member), 0, &stat) == 0, IoError,
             "{}: cannot stat member {}", path, member);
  std::unique_ptr<zip_file_t, decltype(&zip_fclose)> file(
      zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(member), 0), &zip_fclose);
  QSIM_CHECK(file != nullptr, IoError, "{}: cannot open member '{}'", path, stat.name);
  std::string content(static_cast<size_t>(stat.size), '\0');
  const zip_int64_t got = zip_fread(file.get(), content.data(), stat.size);
  QSIM_CHECK(got == static_cast<zip_int64_t>(stat.size), IoError,
             "{}: member '{}' is truncated: read {} of {} bytes", path, stat.name, got, stat.size);
  return content;
}

const json& field(const json& object, const char* key, const std::string& where, const std::string& source) {
  QSIM_CHECK(object.is_object(), IoError, "{}: {}: expected an object, got {}", source, where,
             object.type_name());
  const auto it = object.find(key);
  QSIM_CHECK(it != object.end(), IoError, "{}: {}: missing '{}'", source, where, key);
  return *it;
}

std::string string_field(const json& object, const char* key, const std::string& where,
                         const std::string& source) {
  const json& value = field(object, key, where, source);
  QSIM_CHECK(value.is_string(), IoError, "{}: {}.{}: expected a string, got {}", source, where, key,
             value.type_name());
  return value.get<std::string>();
}

const json& array_field(const json& object, const char* key, const std::string& where,
                        const std::string& source) {
  const json& value = field(object, key, where, source);
  QSIM_CHECK(value.is_array(), IoError, "{}: {}.{}: expected an array, got {}", source, where, key,
             value.type_name());
  return value;
}

// run_squad.py is_whitespace.
bool is_doc_whitespace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\r' || c == U'\n' || c == 0x202F;
}

void split_doc_tokens(SquadExample& example, std::vector<int64_t>& char_to_word) {
  const std::u32string context = text::decode_utf8(example.context);
  bool prev_is_whitespace = true;
  std::u32string current;
  for (size_t i = 0; i < context.size(); ++i) {
    const char32_t c = context[i];
    if (is_doc_whitespace(c)) {
      prev_is_whitespace = true;
    } else {
      if (prev_is_whitespace) {
        if (!example.doc_token_starts.empty()) example.doc_tokens.push_back(text::encode_utf8(current));
        current.clear();
        example.doc_token_starts.push_back(static_cast<int64_t>(i));
      }
      current.push_back(c);
      prev_is_whitespace = false;
    }
    char_to_word.push_back(static_cast<int64_t>(example.doc_token_starts.size()) - 1);
  }
  if (!example.doc_token_starts.empty()) example.doc_tokens.push_back(text::encode_utf8(current));
}

// The first answer's doc-token span, kept only when the doc tokens contain the
// whitespace-normalised answer (run_squad.py skips such examples for training).
void locate_first_answer(SquadExample& example, const std::vector<int64_t>& char_to_word) {
  if (example.answers.empty()) return;
  const SquadAnswer& answer = example.answers.front();
  const auto length = static_cast<int64_t>(text::decode_utf8(answer.text).size());
  const int64_t first = answer.answer_start;
  const int64_t last = first + length - 1;
  if (length == 0 || first < 0 || last >= static_cast<int64_t>(char_to_word.size())) return;
  const int64_t start = char_to_word[static_cast<size_t>(first)];
  const int64_t end = char_to_word[static_cast<size_t>(last)];
  if (start < 0) return;
  std::string actual;
  for (int64_t w = start; w <= end; ++w) actual += (w > start ? " " : "") + example.doc_tokens[static_cast<size_t>(w)];
  // " ".join(whitespace_tokenize(answer)): whitespace runs collapsed, ends stripped.
  std::u32string joined;
  bool pending_space = false;
  for (const char32_t c : text::decode_utf8(answer.text)) {
    if (text::is_python_space(c)) {
      pending_space = !joined.empty();
    } else {
      if (pending_space) joined.push_back(U' ');
      joined.push_back(c);
      pending_space = false;
    }
  }
  const std::string cleaned = text::encode_utf8(joined);
  if (actual.find(cleaned) == std::string::npos) {
    logger()->debug("squad: could not find answer '{}' in '{}' of question {}", cleaned, actual,
                    example.qas_id);
    return;
  }
  example.start_position = start;
  example.end_position = end;
}

SquadExample make_example(const json& qa, const std::string& context, const std::string& where,
                          const std::string& source) {
  SquadExample example;
  example.qas_id = string_field(qa, "id", where, source);
  example.question_text = string_field(qa, "question", where, source);
  example.context = context;
  const json& answers = array_field(qa, "answers", where, source);
  for (size_t a = 0; a < answers.size(); ++a) {
    const std::string answer_where = fmt::format("{}.answers[{}]", where, a);
    const json& start = field(answers[a], "answer_start", answer_where, source);
    QSIM_CHECK(start.is_number_integer(), IoError, "{}: {}.answer_start: expected an integer, got {}",
               source, answer_where, start.dump());
    example.answers.push_back({string_field(answers[a], "text", answer_where, source), start.get<int64_t>()});
  }
  std::vector<int64_t> char_to_word;
  split_doc_tokens(example, char_to_word);
  locate_first_answer(example, char_to_word);
  return example;
}

}  // namespace

std::string read_json_text(const std::string& path) {
  return ends_with(path, ".zip") ? read_zip_member(path) : detail::read_file(path);
}

SquadDataset parse_squad(const std::string& json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    ::qsim::detail::raise<IoError>("{}: invalid JSON: {}", source, e.what());
  }
  SquadDataset dataset;
  dataset.version = string_field(root, "version", "top level", source);
  const json& data = array_field(root, "data", "top level", source);
  for (size_t d = 0; d < data.size(); ++d) {
    const std::string article_where = fmt::format("data[{}]", d);
    const json& paragraphs = array_field(data[d], "paragraphs", article_where, source);
    ++dataset.num_articles;
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string paragraph_where = fmt::format("{}.paragraphs[{}]", article_where, p);
      const std::string context = string_field(paragraphs[p], "context", paragraph_where, source);
      const json& qas = array_field(paragraphs[p], "qas", paragraph_where, source);
      ++dataset.num_paragraphs;
      for (size_t q = 0; q < qas.size(); ++q) {
        dataset.examples.push_back(
            make_example(qas[q], context, fmt::format("{}.qas[{}]", paragraph_where, q), source));
      }
    }
  }
  return dataset;
}

SquadDataset read_squad(const std::string& path) { return parse_squad(read_json_text(path), path); }

}  // namespace qsim::tasks
