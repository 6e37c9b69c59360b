#include "qsim/tasks/glue_reader.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "detail/check.hpp"
#include "tsv.hpp"

namespace qsim::tasks {
namespace {

constexpr int kLast = -1;  // label in the last column
constexpr int kNone = -2;  // no second sentence

struct Layout {
  bool header;
  int text_a;
  int text_b;
  int label;
  size_t min_columns;
};

// Hugging Face glue processors (transformers/data/processors/glue.py).
Layout layout_of(GlueTask task) {
  switch (task) {
    case GlueTask::cola: return {false, 3, kNone, 1, 4};
    case GlueTask::sst2: return {true, 0, kNone, 1, 2};
    case GlueTask::mrpc: return {true, 3, 4, 0, 5};
    case GlueTask::stsb: return {true, 7, 8, kLast, 10};
    case GlueTask::qqp: return {true, 3, 4, 5, 6};
    case GlueTask::mnli:
    case GlueTask::mnli_mismatched: return {true, 8, 9, kLast, 11};
    case GlueTask::qnli:
    case GlueTask::rte:
    case GlueTask::wnli: return {true, 1, 2, kLast, 4};
  }
  return {true, 0, kNone, 1, 2};
}

double parse_score(std::string_view field, const std::string& path, int64_t line) {
  const std::string text(field);
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  QSIM_CHECK(!text.empty() && end == text.c_str() + text.size(), IoError,
             "{}:{}: score must be a number, got '{}'", path, line, text);
  return value;
}

int64_t parse_label(std::string_view field, const LabelMap& label2id, GlueTask task,
                    const std::string& path, int64_t line) {
  const auto it = label2id.find(std::string(field));
  if (it == label2id.end()) {
    std::vector<std::string> known;
    for (const auto& entry : label2id) known.push_back(fmt::format("'{}'", entry.first));
    ::qsim::detail::raise<IoError>("{}:{}: unknown label '{}' for {}, expected one of {}", path, line,
                                   field, glue_task_name(task), fmt::join(known, ", "));
  }
  return it->second;
}

}  // namespace

std::vector<GlueExample> read_glue_tsv(GlueTask task, const std::string& path,
                                       const std::optional<LabelMap>& config_label2id) {
  const Layout layout = layout_of(task);
  const LabelMap label2id = glue_label_map(task, config_label2id);
  const std::string content = detail::read_file(path);
  const std::vector<detail::TsvRow> rows = detail::split_tsv(content);
  std::vector<GlueExample> examples;
  examples.reserve(rows.size());
  for (size_t r = layout.header ? 1 : 0; r < rows.size(); ++r) {
    const detail::TsvRow& row = rows[r];
    QSIM_CHECK(row.fields.size() >= layout.min_columns, IoError,
               "{}:{}: expected at least {} tab-separated columns for {}, got {}", path, row.line,
               layout.min_columns, glue_task_name(task), row.fields.size());
    GlueExample example;
    example.line = row.line;
    example.text_a = std::string(row.fields[static_cast<size_t>(layout.text_a)]);
    if (layout.text_b != kNone) example.text_b = std::string(row.fields[static_cast<size_t>(layout.text_b)]);
    const std::string_view label =
        layout.label == kLast ? row.fields.back() : row.fields[static_cast<size_t>(layout.label)];
    if (is_regression(task)) {
      example.score = parse_score(label, path, row.line);
    } else {
      example.label = parse_label(label, label2id, task, path, row.line);
    }
    examples.push_back(std::move(example));
  }
  return examples;
}

std::vector<GlueExample> read_glue(GlueTask task, GlueSplit split, const std::string& glue_dir,
                                   const std::optional<LabelMap>& config_label2id) {
  const std::string path =
      fmt::format("{}/{}/{}", glue_dir, glue_task_dir(task), glue_split_file(task, split));
  return read_glue_tsv(task, path, config_label2id);
}

}  // namespace qsim::tasks
