#pragma once

// Readers for the original GLUE TSV files (the download script's layout).
//
// The files are tab-separated with quoting OFF: several contain fields that begin
// with or hold unbalanced '"', and a CSV reader with quoting would merge rows. MRPC
// starts with a UTF-8 BOM, CoLA has no header row, and a file may lack the final
// newline; none of this loses or merges a row here. Columns per task follow Hugging
// Face's glue processors (e.g. MNLI: sentence1 = column 8, sentence2 = 9, label =
// last; QQP: 3, 4, 5). A row with too few columns or an unknown label is an IoError
// naming the file and line.

#include <optional>
#include <string>
#include <vector>

#include "qsim/tasks/glue_example.hpp"
#include "qsim/tasks/glue_task.hpp"
#include "qsim/tasks/label_map.hpp"

namespace qsim::tasks {

/// Reads one GLUE TSV file of `task`. Labels become ids through
/// glue_label_map(task, config_label2id), i.e. in the order of a checkpoint's
/// config.json `label2id` when given; STS-B scores are parsed as numbers.
std::vector<GlueExample> read_glue_tsv(GlueTask task, const std::string& path,
                                       const std::optional<LabelMap>& config_label2id = std::nullopt);

/// Reads <glue_dir>/<task dir>/<split file>, e.g. glue_dir/MNLI/dev_mismatched.tsv.
std::vector<GlueExample> read_glue(GlueTask task, GlueSplit split, const std::string& glue_dir,
                                   const std::optional<LabelMap>& config_label2id = std::nullopt);

}  // namespace qsim::tasks
