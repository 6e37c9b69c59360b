// qsim qdq: fake-quantize one tensor of a safetensors file on the static grid
// (§2) or the learned grid (§5), optionally with the range-learning gradients.
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "tensor_spec.hpp"
#include "detail/check.hpp"
#include "qsim/io/safetensors.hpp"
#include "qsim/log.hpp"
#include "qsim/quant/encoding.hpp"
#include "qsim/quant/fake_quant.hpp"
#include "qsim/quant/quantizer_options.hpp"
#include "qsim/quant/range_learning.hpp"

namespace qsim::cli {
namespace {

struct QdqArgs {
  std::string input, output, encodings, grad;
  std::string min, max;
  int bitwidth = 8;
  std::string scheme;
  std::string grid = "static";
  std::optional<int64_t> axis;
  bool codes = false;
};

std::vector<double> parse_list(const std::string& text, std::string_view flag) {
  std::vector<double> values;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    try {
      size_t used = 0;
      values.push_back(std::stod(item, &used));
      QSIM_CHECK(used == item.size(), ConfigError, "{}: '{}' is not a number", flag, item);
    } catch (const std::logic_error&) {
      throw ConfigError(fmt::format("{}: '{}' is not a number", flag, item));
    }
  }
  QSIM_CHECK(!values.empty(), ConfigError, "{}: no value given", flag);
  return values;
}

// One encoding per channel (or one): min/max (and bitwidth) are all the static grid uses.
std::vector<quant::Encoding> encodings_from_flags(const QdqArgs& a) {
  const std::vector<double> mins = parse_list(a.min, "--min");
  const std::vector<double> maxs = parse_list(a.max, "--max");
  QSIM_CHECK(mins.size() == maxs.size(), ConfigError, "--min has {} values but --max has {}", mins.size(), maxs.size());
  QSIM_CHECK(a.axis || mins.size() == 1, ConfigError, "--min/--max: {} values need --axis", mins.size());
  std::vector<quant::Encoding> out;
  for (size_t c = 0; c < mins.size(); ++c) out.push_back({a.bitwidth, mins[c], maxs[c], 0.0, 0.0});
  return out;
}

std::vector<quant::Encoding> encodings_from_json(const QdqArgs& a) {
  std::ifstream in(a.encodings);
  QSIM_CHECK(in.good(), IoError, "--encodings {}: cannot open the file", a.encodings);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("--encodings {}: invalid JSON: {}", a.encodings, e.what()));
  }
  QSIM_CHECK(doc.is_object() && doc.contains("encodings") && doc["encodings"].is_array() && !doc["encodings"].empty(),
             ConfigError, "--encodings {}: expected {{\"encodings\": [...]}} with at least one entry", a.encodings);
  std::vector<quant::Encoding> out;
  for (const auto& entry : doc["encodings"]) {
    const size_t index = out.size();
    QSIM_CHECK(entry.is_object() && entry.contains("min") && entry.contains("max") && entry["min"].is_number() &&
                   entry["max"].is_number(),
               ConfigError, "--encodings {}: entry {} needs numeric 'min' and 'max'", a.encodings, index);
    quant::Encoding e{a.bitwidth, entry["min"].get<double>(), entry["max"].get<double>(), 0.0, 0.0};
    if (entry.contains("bitwidth")) {
      QSIM_CHECK(entry["bitwidth"].is_number_integer(), ConfigError, "--encodings {}: entry {}: 'bitwidth' must be an integer",
                 a.encodings, index);
      e.bitwidth = entry["bitwidth"].get<int>();  // the entry's bitwidth wins over --bitwidth
    }
    out.push_back(e);
  }
  QSIM_CHECK(a.axis || out.size() == 1, ConfigError, "--encodings {}: {} entries need --axis", a.encodings, out.size());
  return out;
}

void run_qdq(const QdqArgs& a) {
  const quant::Symmetry symmetry = quant::parse_symmetry(a.scheme);
  const quant::Grid grid = quant::parse_grid(a.grid);
  QSIM_CHECK(a.encodings.empty() != (a.min.empty() && a.max.empty()), ConfigError,
             "give either --min and --max, or --encodings");
  QSIM_CHECK(a.encodings.empty() || (a.min.empty() && a.max.empty()), ConfigError,
             "--encodings cannot be combined with --min/--max");
  QSIM_CHECK(!a.encodings.empty() || (!a.min.empty() && !a.max.empty()), ConfigError, "--min and --max go together");
  QSIM_CHECK(a.grad.empty() || grid == quant::Grid::learned_grid, ConfigError, "--grad needs --grid learned");
  QSIM_CHECK(!a.codes || grid == quant::Grid::static_grid, ConfigError, "--codes needs --grid static");
  const std::vector<quant::Encoding> encodings = a.encodings.empty() ? encodings_from_flags(a) : encodings_from_json(a);
  const at::Tensor x = load_tensor(a.input, "--input");
  logger()->info("qdq: input [{}] {}, {} grid, {}, {} encoding(s)", fmt::join(x.sizes(), ", "),
                 c10::toString(x.scalar_type()), a.grid, a.scheme, encodings.size());

  io::TensorList out;
  if (grid == quant::Grid::static_grid) {
    at::Tensor y = a.codes ? quant::quantize_static(x, encodings, a.axis, symmetry)
                           : quant::fake_quantize_static(x, encodings, a.axis);
    out.emplace_back("output", y.to(at::kFloat));
  } else {
    const int bitwidth = encodings.front().bitwidth;
    for (const quant::Encoding& e : encodings) {
      QSIM_CHECK(e.bitwidth == bitwidth, ConfigError, "learned grid: all channels need one bitwidth, got {} and {}",
                 bitwidth, e.bitwidth);
    }
    std::vector<float> mins, maxs;
    for (const quant::Encoding& e : encodings) {
      mins.push_back(static_cast<float>(e.min));
      maxs.push_back(static_cast<float>(e.max));
    }
    at::Tensor min = at::tensor(mins), max = at::tensor(maxs);
    quant::gate_learned_range_(min, max);  // §5.1: the wrapper gates before every forward
    const quant::RangeLearningOptions options{bitwidth, symmetry, a.axis, quant::ScaleMode::divide, {}};
    out.emplace_back("output", quant::range_learning_quantize(x, min, max, options).to(at::kFloat));
    if (!a.grad.empty()) {
      const at::Tensor g = load_tensor(a.grad, "--grad");
      QSIM_CHECK(g.sizes() == x.sizes(), ConfigError, "--grad: shape [{}] differs from the input's [{}]",
                 fmt::join(g.sizes(), ", "), fmt::join(x.sizes(), ", "));
      const quant::RangeLearningGrads grads = quant::range_learning_backward(x, g, min, max, options);
      const bool per_channel = a.axis.has_value();
      const at::Tensor zeros = at::zeros_like(grads.grad_max);
      const at::Tensor gmin = grads.grad_min.defined() ? grads.grad_min : zeros;
      out.emplace_back("grad_input", grads.grad_input.to(at::kFloat));
      out.emplace_back("grad_min", per_channel ? gmin : gmin.reshape({}));
      out.emplace_back("grad_max", per_channel ? grads.grad_max : grads.grad_max.reshape({}));
    }
  }
  io::save_safetensors(a.output, out, {{"generator", "qsim qdq"}, {"grid", a.grid}, {"scheme", a.scheme}});
  logger()->info("qdq: wrote {} tensor(s) to {}", out.size(), a.output);
}

}  // namespace

void add_qdq_command(CLI::App& app) {
  auto args = std::make_shared<QdqArgs>();
  auto* cmd = app.add_subcommand("qdq", "fake-quantize a tensor of a safetensors file (static or learned grid)");
  cmd->add_option("--input", args->input, "X.safetensors[:NAME] (NAME optional for a one-tensor file)")->required();
  cmd->add_option("--output", args->output, "Y.safetensors: 'output' [+ 'grad_input', 'grad_min', 'grad_max']")
      ->required();
  cmd->add_option("--min", args->min, "encoding min, used as given (with --axis: comma list, one per channel)");
  cmd->add_option("--max", args->max, "encoding max, used as given (with --axis: comma list, one per channel)");
  cmd->add_option("--encodings", args->encodings,
                  "ENC.json {\"encodings\": [{bitwidth, min, max, ...}]}, one entry per channel; "
                  "only min, max and bitwidth are used, an entry's bitwidth wins over --bitwidth");
  cmd->add_option("--bitwidth", args->bitwidth, "bitwidth, 1..32")->default_val(8);
  cmd->add_option("--scheme", args->scheme, "asymmetric|symmetric|strict_symmetric|unsigned_symmetric")->required();
  cmd->add_option("--grid", args->grid, "static (AIMET kernel, §2) or learned (range learning, §5; min/max gated)")
      ->default_val("static");
  cmd->add_option("--axis", args->axis, "per-channel axis (default: per tensor)");
  cmd->add_flag("--codes", args->codes, "static grid: write the integer codes (float path) instead of values");
  cmd->add_option("--grad", args->grad, "G.safetensors[:NAME]: upstream gradient (learned grid only)");
  cmd->callback([args] { run_qdq(*args); });
}

}  // namespace qsim::cli
