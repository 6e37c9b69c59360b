#pragma once

// Reads a SQuAD v1.1 dataset: the JSON file itself, or a .zip holding it (the form
// the data directory keeps, read in memory with libzip). Malformed input is an
// IoError naming the file and the JSON path of the bad entry, e.g.
// `dev-v1.1.json: data[3].paragraphs[1].qas[0]: missing 'id'`.

#include <string>

#include "qsim/tasks/squad_example.hpp"

namespace qsim::tasks {

/// Reads `path` (".zip": the single .json member inside it).
SquadDataset read_squad(const std::string& path);

/// Parses SQuAD JSON text; `source` names it in errors.
SquadDataset parse_squad(const std::string& json_text, const std::string& source);

/// The text of a file, or of the .json member when `path` ends in ".zip".
std::string read_json_text(const std::string& path);

}  // namespace qsim::tasks
