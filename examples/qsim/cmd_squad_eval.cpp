// qsim squad-eval: the official SQuAD v1.1 evaluation (evaluate-v1.1.py).
//   qsim squad-eval dev-v1.1.json predictions.json
// prints {"exact_match": X, "f1": Y} like the script; the dataset may also be a .zip.
// Warnings (dataset version, unanswered questions) go to stderr, as the script writes them.
#include <map>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "detail/check.hpp"
#include "qsim/tasks/squad_metrics.hpp"
#include "qsim/tasks/squad_reader.hpp"

namespace qsim::cli {
namespace {

struct SquadEvalArgs {
  std::string dataset;
  std::string predictions;
};

// Python's repr of a float, as json.dumps writes it: shortest round trip, ".0" for
// integral values.
std::string python_float(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

std::map<std::string, std::string> read_predictions(const std::string& path) {
  const std::string content = tasks::read_json_text(path);
  QSIM_CHECK(content.find_first_not_of(" \t\r\n") != std::string::npos, IoError,
             "{}: empty predictions file", path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(content);
  } catch (const nlohmann::json::exception& e) {
    ::qsim::detail::raise<IoError>("{}: invalid JSON: {}", path, e.what());
  }
  QSIM_CHECK(json.is_object(), IoError, "{}: predictions must be a JSON object of id -> answer, got {}",
             path, json.type_name());
  std::map<std::string, std::string> predictions;
  for (const auto& [id, answer] : json.items()) {
    QSIM_CHECK(answer.is_string(), IoError, "{}: '{}': answer must be a string, got {}", path, id,
               answer.type_name());
    predictions[id] = answer.get<std::string>();
  }
  return predictions;
}

void run_squad_eval(const SquadEvalArgs& args) {
  const tasks::SquadDataset dataset = tasks::read_squad(args.dataset);
  if (dataset.version != "1.1") {
    fmt::print(stderr, "Evaluation expects v-1.1, but got dataset with v-{}\n", dataset.version);
  }
  const auto predictions = read_predictions(args.predictions);
  const tasks::SquadScores scores = tasks::evaluate_squad(dataset.examples, predictions);
  for (const auto& id : scores.unanswered) {
    fmt::print(stderr, "Unanswered question {} will receive score 0.\n", id);
  }
  fmt::print("{{\"exact_match\": {}, \"f1\": {}}}\n", python_float(scores.exact_match),
             python_float(scores.f1));
}

}  // namespace

void add_squad_eval_command(CLI::App& app) {
  auto args = std::make_shared<SquadEvalArgs>();
  auto* cmd = app.add_subcommand("squad-eval", "SQuAD v1.1 exact match and F1 (official evaluate-v1.1.py)");
  cmd->add_option("dataset", args->dataset, "SQuAD v1.1 dataset JSON (or .zip)")->required();
  cmd->add_option("predictions", args->predictions, "JSON object: question id -> answer text")->required();
  cmd->callback([args] { run_squad_eval(*args); });
}

}  // namespace qsim::cli
