#include "qsim/tasks/glue_task.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "detail/check.hpp"

namespace qsim::tasks {
namespace {

std::string normalize_name(std::string_view name) {
  std::string out;
  for (const char c : name) {
    if (c == '-' || c == '_') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

const std::vector<GlueTask>& all_glue_tasks() {
  static const std::vector<GlueTask> tasks{GlueTask::cola, GlueTask::sst2, GlueTask::mrpc,
                                           GlueTask::stsb, GlueTask::qqp,  GlueTask::mnli,
                                           GlueTask::mnli_mismatched, GlueTask::qnli,
                                           GlueTask::rte,  GlueTask::wnli};
  return tasks;
}

std::string_view glue_task_name(GlueTask task) {
  switch (task) {
    case GlueTask::cola: return "cola";
    case GlueTask::sst2: return "sst2";
    case GlueTask::mrpc: return "mrpc";
    case GlueTask::stsb: return "stsb";
    case GlueTask::qqp: return "qqp";
    case GlueTask::mnli: return "mnli";
    case GlueTask::mnli_mismatched: return "mnli-mm";
    case GlueTask::qnli: return "qnli";
    case GlueTask::rte: return "rte";
    case GlueTask::wnli: return "wnli";
  }
  return "";
}

GlueTask parse_glue_task(std::string_view name) {
  const std::string wanted = normalize_name(name);
  for (const GlueTask task : all_glue_tasks()) {
    if (normalize_name(glue_task_name(task)) == wanted) return task;
  }
  if (wanted == "mnlimatched") return GlueTask::mnli;
  if (wanted == "mnlimismatched") return GlueTask::mnli_mismatched;
  std::vector<std::string_view> names;
  for (const GlueTask task : all_glue_tasks()) names.push_back(glue_task_name(task));
  ::qsim::detail::raise<ConfigError>("unknown GLUE task '{}', expected one of {}", name,
                             fmt::join(names, ", "));
}

std::string_view glue_task_dir(GlueTask task) {
  switch (task) {
    case GlueTask::cola: return "CoLA";
    case GlueTask::sst2: return "SST-2";
    case GlueTask::mrpc: return "MRPC";
    case GlueTask::stsb: return "STS-B";
    case GlueTask::qqp: return "QQP";
    case GlueTask::mnli:
    case GlueTask::mnli_mismatched: return "MNLI";
    case GlueTask::qnli: return "QNLI";
    case GlueTask::rte: return "RTE";
    case GlueTask::wnli: return "WNLI";
  }
  return "";
}

std::string glue_split_file(GlueTask task, GlueSplit split) {
  if (split == GlueSplit::train) return "train.tsv";
  if (task == GlueTask::mnli) return "dev_matched.tsv";
  if (task == GlueTask::mnli_mismatched) return "dev_mismatched.tsv";
  return "dev.tsv";
}

bool is_regression(GlueTask task) { return task == GlueTask::stsb; }

std::vector<std::string> glue_labels(GlueTask task) {
  switch (task) {
    case GlueTask::cola:
    case GlueTask::sst2:
    case GlueTask::mrpc:
    case GlueTask::qqp:
    case GlueTask::wnli: return {"0", "1"};
    case GlueTask::stsb: return {};
    case GlueTask::mnli:
    case GlueTask::mnli_mismatched: return {"contradiction", "entailment", "neutral"};
    case GlueTask::qnli:
    case GlueTask::rte: return {"entailment", "not_entailment"};
  }
  return {};
}

int64_t glue_num_labels(GlueTask task) {
  return is_regression(task) ? 1 : static_cast<int64_t>(glue_labels(task).size());
}

}  // namespace qsim::tasks
