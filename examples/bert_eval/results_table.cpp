#include "results_table.hpp"

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"

namespace qsim::examples {
namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  io::write_file_atomically(path.string(), text);
}

}  // namespace

std::string ResultsTable::markdown() const {
  std::string out = "| Configuration |";
  for (const auto& c : columns) out += " " + c + " |";
  out += "\n|---|";
  for (size_t i = 0; i < columns.size(); ++i) out += "---|";
  out += "\n";
  for (const auto& row : rows) {
    out += "| " + row.configuration + " |";
    for (size_t i = 0; i < columns.size(); ++i) {
      const bool has = i < row.values.size() && row.values[i].has_value();
      const bool significant = i < significant_digits.size() && significant_digits[i] > 0;
      const std::string value =
          !has ? "–" : significant ? fmt::format("{:.{}g}", *row.values[i], significant_digits[i])
                                   : fmt::format("{:.2f}", *row.values[i]);
      out += " " + value + " |";
    }
    out += "\n";
  }
  return out;
}

void write_results(const std::string& dir, const nlohmann::json& json, const std::string& title,
                   const ResultsTable& table, const std::string& notes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  QSIM_CHECK(!ec, IoError, "{}: cannot create the output directory: {}", dir, ec.message());
  write_file(std::filesystem::path(dir) / "results.json", json.dump(2) + "\n");
  write_file(std::filesystem::path(dir) / "results.md",
             fmt::format("# {}\n\n{}\n{}", title, table.markdown(), notes.empty() ? "" : notes + "\n"));
}

std::string column_name(const std::string& task, const std::string& metric) {
  static const std::map<std::string, std::string> display = {
      {"cola", "CoLA"}, {"sst2", "SST-2"}, {"mrpc", "MRPC"}, {"stsb", "STS-B"}, {"qqp", "QQP"},
      {"mnli", "MNLI"}, {"mnli-m", "MNLI-m"}, {"mnli-mm", "MNLI-mm"}, {"qnli", "QNLI"}, {"rte", "RTE"},
      {"squad", "SQuAD v1.1"}};
  const auto it = display.find(task);
  const std::string shown_metric = metric == "squad_f1" ? "f1" : metric == "mcc" ? "corr" : metric;
  return fmt::format("{} ({})", it == display.end() ? task : it->second, shown_metric);
}

}  // namespace qsim::examples
