#include "qsim/ptq/report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"
#include "qsim/log.hpp"
#include "report_charts.hpp"

namespace qsim::ptq {
namespace {

std::string fixed(double v, int digits = 2) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "–"; }

std::string html_escape(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string scores_markdown(const SensitivityResult& s) {
  std::string md = "| FP32 | quantized | weights only | activations only |\n|---|---|---|---|\n";
  md += fmt::format("| {} | {} | {} | {} |\n\n", fixed(s.fp32), fixed(s.quantized), fixed(s.weights_only),
                    fixed(s.activations_only));
  md += "Most sensitive groups (disable one: what switching the group off wins back):\n\n"
        "| # | group | disabled | gain | enabled alone | loss alone |\n|---|---|---|---|---|---|\n";
  std::size_t rank = 0;
  for (const GroupSensitivity& g : s.most_sensitive(10)) {
    md += fmt::format("| {} | `{}` | {} | {:+.2f} | {} | {} |\n", ++rank, g.name, fixed(g.disabled), g.disabled - s.quantized,
                      fixed(g.enabled_only), std::isnan(g.enabled_only) ? "–" : fmt::format("{:+.2f}", g.enabled_only - s.fp32));
  }
  return md + "\n";
}

std::string blocks_markdown(const std::vector<BlockError>& errors) {
  std::vector<BlockError> worst = errors;
  std::stable_sort(worst.begin(), worst.end(), [](const auto& a, const auto& b) { return a.sqnr_db < b.sqnr_db; });
  if (worst.size() > 10) worst.resize(10);
  std::string md = "Blocks with the lowest output SQNR (quantized vs FP32, padding excluded):\n\n"
                   "| block | op | SQNR (dB) | MSE |\n|---|---|---|---|\n";
  for (const BlockError& e : worst) md += fmt::format("| `{}` | {} | {} | {:.3g} |\n", e.block, e.op_type, fixed(e.sqnr_db, 1), e.mse);
  return md + "\n";
}

std::string amp_markdown(const nlohmann::json& amp) {
  const auto& chosen = amp.at("points").at(amp.at("chosen").get<std::size_t>());
  std::string md = fmt::format(
      "Mixed precision over {} (baseline {}), allowed drop {} below FP32 {}: chose step {} with BitOps {:.3f} of the "
      "baseline and score {}{} ({} evaluations, {:.0f} s).\n\n| step | flipped | to | relative BitOps | score | Pareto |\n"
      "|---|---|---|---|---|---|\n",
      amp.at("candidates").dump(), amp.at("baseline").get<std::string>(), amp.at("allowed_drop").get<double>(),
      fixed(amp.at("fp32").get<double>()), amp.at("chosen").get<std::size_t>(), chosen.at("relative_bitops").get<double>(),
      fixed(chosen.at("score").get<double>()), amp.at("met").get<bool>() ? "" : " (NOT within the allowed drop)",
      amp.at("evaluations").get<int64_t>(), amp.at("seconds").get<double>());
  std::size_t step = 0;
  for (const auto& p : amp.at("points")) {
    md += fmt::format("| {} | `{}` | {} | {:.3f} | {} | {} |\n", step++, p.at("group").get<std::string>(),
                      p.at("candidate").get<std::string>(), p.at("relative_bitops").get<double>(),
                      fixed(p.at("score").get<double>()), p.at("pareto_optimal").get<bool>() ? "yes" : "");
  }
  return md + "\n";
}

// Reports JavaScript errors and which charts drew, into the page itself, so that a
// headless browser's DOM dump shows both (the report test reads them).
constexpr const char* kHeadScript = R"(<script>
window.qsimErrors = [];
window.addEventListener('error', function (e) { window.qsimErrors.push(String(e.message)); });
(function () { var log = console.error; console.error = function () {
  window.qsimErrors.push(Array.prototype.join.call(arguments, ' ')); log.apply(console, arguments); }; })();
</script>)";
constexpr const char* kTailScript = R"(<script>
(function () {
  var figures = document.querySelectorAll('figure.chart'), drawn = 0;
  for (var i = 0; i < figures.length; ++i) {
    var svg = figures[i].querySelector('svg');
    if (!svg) continue;
    var box = svg.getBBox(), marks = svg.querySelectorAll('path, polyline, polygon, rect, line').length;
    if (box.width > 0 && box.height > 0 && marks > 0) { ++drawn; figures[i].setAttribute('data-drawn', 'yes'); }
  }
  document.body.setAttribute('data-charts-expected', String(figures.length));
  document.body.setAttribute('data-charts-drawn', String(drawn));
  document.body.setAttribute('data-errors', String(window.qsimErrors.length));
  if (window.qsimErrors.length) document.body.setAttribute('data-error-text', window.qsimErrors.join(' | '));
})();
</script>)";

std::string html_page(const AnalysisReport& r, const std::vector<detail::TitledChart>& charts,
                      const std::vector<std::string>& svgs) {
  std::string body = fmt::format(
      "<h1>{}</h1>\n<pre>{}</pre>\n<p>Chart labels shorten module paths: L<i>n</i> = bert.encoder.layer.<i>n</i>, "
      "emb = bert.embeddings, att = attention.self, att.out = attention.output, inter = intermediate; "
      ":out, :in<i>k</i>, :w = output, input <i>k</i> and weight quantizer. analysis.json has the full names.</p>\n",
      html_escape(r.title), html_escape(r.settings.dump(2)));
  const std::vector<std::pair<std::string, std::string>> sections = {
      {"sensitivity", "Sensitivity sweeps"},          {"blocks", "Block outputs: quantized vs FP32"},
      {"amp", "Mixed precision"},                     {"channels", "Per-channel ranges"},
      {"histograms", "Encodings and histograms"}};
  for (const auto& [id, heading] : sections) {
    std::string figures;
    for (std::size_t i = 0; i < charts.size(); ++i) {
      if (charts[i].section != id) continue;
      figures += fmt::format("<figure class=\"chart\" id=\"{}\">{}<figcaption>{}</figcaption></figure>\n",
                             charts[i].chart.name, svgs[i], html_escape(charts[i].title));
    }
    if (!figures.empty()) body += fmt::format("<h2 id=\"{}\">{}</h2>\n{}", id, heading, figures);
  }
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\n"
      "body {{ font-family: sans-serif; margin: 2em; color: #222; }}\nfigure.chart {{ margin: 1em 0; overflow-x: auto; }}\n"
      "figcaption {{ font-size: 0.9em; color: #444; }}\npre {{ background: #f6f6f6; padding: 0.5em; font-size: 0.8em; }}\n"
      "</style>\n{}</head><body>\n{}<h2>Summary</h2>\n<pre>{}</pre>\n{}</body></html>\n",
      html_escape(r.title), kHeadScript, body, html_escape(r.markdown()), kTailScript);
}

}  // namespace

nlohmann::json AnalysisReport::to_json() const {
  nlohmann::json stats = nlohmann::json::array();
  for (const QuantizerStats& s : quantizers) stats.push_back(s.to_json());
  return {{"title", title},
          {"settings", settings},
          {"sensitivity", sensitivity ? sensitivity->to_json() : nlohmann::json(nullptr)},
          {"block_errors", ptq::to_json(block_errors)},
          {"quantizers", stats},
          {"mixed_precision", mixed_precision}};
}

std::string AnalysisReport::markdown() const {
  std::string md = fmt::format("# {}\n\n", title);
  if (sensitivity) md += scores_markdown(*sensitivity);
  if (!block_errors.empty()) md += blocks_markdown(block_errors);
  if (!mixed_precision.is_null()) md += amp_markdown(mixed_precision);
  for (const QuantizerStats& s : quantizers) {
    if (s.channel_min.empty()) continue;
    md += fmt::format("Channel ranges of `{}`: {} channels, {} wider than 6x the median.\n", s.name, s.channel_min.size(),
                      s.outlier_channels().size());
  }
  return md;
}

void write_report(const std::string& dir, const AnalysisReport& report) {
  std::filesystem::create_directories(dir);
  io::write_file_atomically(dir + "/analysis.json", report.to_json().dump(1));
  io::write_file_atomically(dir + "/analysis.md", report.markdown());
  const std::vector<detail::TitledChart> charts = detail::report_charts(report);
  std::vector<detail::Chart> plain;
  for (const auto& c : charts) plain.push_back(c.chart);
  const std::vector<std::string> svgs = detail::render_charts(plain, dir + "/charts");
  io::write_file_atomically(dir + "/report.html", html_page(report, charts, svgs));
  logger()->info("report: {}/report.html ({} charts), analysis.json, analysis.md", dir, charts.size());
}

}  // namespace qsim::ptq
