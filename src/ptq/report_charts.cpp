#include "report_charts.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace qsim::ptq::detail {
namespace {

std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.9g}", v) : "NaN"; }

// Axis labels: module paths shortened (the JSON and Markdown keep them whole).
std::string short_label(std::string name) {
  const std::vector<std::pair<std::string, std::string>> rules = {
      {"bert.encoder.layer.", "L"},      {"bert.embeddings.", "emb."},
      {"attention.self.", "att."},       {"attention.output.", "att.out."},
      {"intermediate.intermediate_act_fn", "act_fn"}, {"intermediate.", "inter."},
      {".output_quantizer", ":out"},     {".input_quantizers.", ":in"},
      {".weight_quantizer", ":w"},       {"bert.", ""}};
  for (const auto& [from, to] : rules) {
    for (std::size_t at = name.find(from); at != std::string::npos; at = name.find(from, at + to.size())) {
      name.replace(at, from.size(), to);
    }
  }
  return name;
}

int wide(std::size_t points) { return std::clamp(200 + 14 * static_cast<int>(points), 800, 4000); }

// Scores of every group in the two sweeps, against FP32 and the fully quantized model.
Chart sweep_chart(const std::string& name, const std::vector<GroupSensitivity>& groups, const SensitivityResult& s) {
  std::string data = "$d << EOD\n";
  for (std::size_t i = 0; i < groups.size(); ++i) {
    data += fmt::format("{} {} {} {}\n", i, quoted(short_label(groups[i].name)), num(groups[i].enabled_only),
                        num(groups[i].disabled));
  }
  data += "EOD\n";
  const std::string commands = data + fmt::format(
      "set xtics rotate by 90 right font ',7'\nset ylabel 'score'\nset key outside top center horizontal\n"
      "set grid ytics\nset xrange [-1:{}]\n"
      "plot $d using 1:3:xtic(2) with linespoints pt 7 ps 0.6 title 'enabled alone', "
      "'' using 1:4 with linespoints pt 5 ps 0.6 title 'disabled (all others on)', "
      "{} with lines dt 2 lc rgb '#444444' title 'FP32', {} with lines dt 3 lc rgb '#aa0000' title 'all quantized'",
      groups.size(), num(s.fp32), num(s.quantized));
  return {name, wide(groups.size()), 560, commands, false};
}

Chart block_chart(const std::vector<BlockError>& errors, bool sqnr) {
  std::string data = "$d << EOD\n";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    data += fmt::format("{} {} {}\n", i, quoted(short_label(errors[i].block)), num(sqnr ? errors[i].sqnr_db : errors[i].mse));
  }
  data += "EOD\n";
  const std::string axis = sqnr ? "set ylabel 'SQNR (dB)'\n" : "set ylabel 'MSE'\nset logscale y\n";
  const std::string commands = data + axis + fmt::format(
      "set xtics rotate by 90 right font ',7'\nset grid ytics\nset xrange [-1:{}]\nset key off\n"
      "plot $d using 1:3:xtic(2) with linespoints pt 7 ps 0.6 lc rgb '{}'",
      errors.size(), sqnr ? "#1f77b4" : "#d62728");
  return {sqnr ? "block_sqnr" : "block_mse", wide(errors.size()), 520, commands, false};
}

Chart histogram_chart(const QuantizerStats& s, std::size_t index) {
  const double width = (s.histogram_max - s.histogram_min) / static_cast<double>(s.histogram.size());
  std::string data = "$h << EOD\n";
  for (std::size_t b = 0; b < s.histogram.size(); ++b) {
    data += fmt::format("{} {}\n", num(s.histogram_min + (static_cast<double>(b) + 0.5) * width), s.histogram[b]);
  }
  data += "EOD\n";
  const double lo = *std::min_element(s.encoding_min.begin(), s.encoding_min.end());
  const double hi = *std::max_element(s.encoding_max.begin(), s.encoding_max.end());
  const std::string dash = s.encoding_min.size() > 1 ? "dt 2 " : "";
  const std::string commands = data + fmt::format(
      "set style fill solid 0.6 noborder\nset boxwidth {} absolute\nset logscale y\nset yrange [0.8:*]\nset key off\n"
      "set xrange [{}:{}]\nset arrow 1 from {}, graph 0 to {}, graph 1 nohead lw 2 {}lc rgb '#d62728'\n"
      "set arrow 2 from {}, graph 0 to {}, graph 1 nohead lw 2 {}lc rgb '#d62728'\n"
      "plot $h using 1:($2 > 0 ? $2 : 1/0) with boxes lc rgb '#1f77b4'",
      num(width), num(s.histogram_min), num(s.histogram_max), num(lo), num(lo), dash, num(hi), num(hi), dash);
  return {fmt::format("histogram_{}", index), 560, 220, commands, false};
}

Chart channel_chart(const QuantizerStats& s, std::size_t index) {
  std::string data = "$c << EOD\n";
  std::vector<double> ranges;
  for (std::size_t c = 0; c < s.channel_min.size(); ++c) {
    ranges.push_back(s.channel_max[c] - s.channel_min[c]);
    data += fmt::format("{} {}\n", c, num(ranges.back()));
  }
  data += "EOD\n";
  const std::size_t middle = (ranges.size() - 1) / 2;  // the lower median
  std::nth_element(ranges.begin(), ranges.begin() + static_cast<std::ptrdiff_t>(middle), ranges.end());
  const std::string commands = data + fmt::format(
      "set xlabel 'channel'\nset ylabel 'max - min'\nset key top left\nset xrange [-1:{}]\n"
      "plot $c using 1:2 with impulses lc rgb '#1f77b4' title 'channel range', "
      "{} with lines dt 2 lc rgb '#444444' title 'median', {} with lines dt 3 lc rgb '#d62728' title '6x median'",
      s.channel_min.size(), num(ranges[middle]), num(6.0 * ranges[middle]));
  return {fmt::format("channels_{}", index), 800, 260, commands, false};
}

Chart pareto_chart(const nlohmann::json& amp) {
  std::string data = "$p << EOD\n";
  for (const auto& p : amp.at("points")) {
    data += fmt::format("{} {} {}\n", num(p.at("relative_bitops").get<double>()), num(p.at("score").get<double>()),
                        p.at("pareto_optimal").get<bool>() ? 1 : 0);
  }
  data += "EOD\n";
  const auto& chosen = amp.at("points").at(amp.at("chosen").get<std::size_t>());
  const double fp32 = amp.at("fp32").get<double>(), drop = amp.at("allowed_drop").get<double>();
  const std::string commands = data + fmt::format(
      "set xlabel 'BitOps relative to {}'\nset ylabel 'score'\nset grid\nset key bottom right\nset xrange [*:1.02]\n"
      "plot $p using 1:2 with linespoints pt 7 ps 0.7 lc rgb '#1f77b4' title 'phase 2 (groups flipped cumulatively)', "
      "'' using 1:($3 > 0 ? $2 : 1/0) with points pt 6 ps 1.6 lc rgb '#2ca02c' title 'Pareto-optimal', "
      "'+' using ({}):({}) every ::0::0 with points pt 9 ps 2.2 lc rgb '#d62728' title 'chosen', "
      "{} with lines dt 2 lc rgb '#444444' title 'FP32', {} with lines dt 3 lc rgb '#d62728' title 'FP32 - allowed drop'",
      amp.at("baseline").get<std::string>(), num(chosen.at("relative_bitops").get<double>()),
      num(chosen.at("score").get<double>()), num(fp32), num(fp32 - drop));
  return {"pareto", 800, 420, commands, true};
}

Chart phase1_chart(const nlohmann::json& amp) {
  const auto& candidates = amp.at("candidates");
  std::string data = "$s << EOD\n";
  std::size_t n = 0;
  for (const auto& g : amp.at("phase1")) {
    data += fmt::format("{} {}", n++, quoted(short_label(g.at("group").get<std::string>())));
    for (std::size_t c = 1; c < candidates.size(); ++c) {
      const std::string label = candidates[c].get<std::string>();
      data += " " + (g.at("scores").contains(label) ? num(g.at("scores").at(label).get<double>()) : std::string("NaN"));
    }
    data += "\n";
  }
  data += "EOD\n";
  std::string plot = "plot ";
  for (std::size_t c = 1; c < candidates.size(); ++c) {
    plot += fmt::format("$s using 1:{}{} with linespoints pt 7 ps 0.6 title {}, ", c + 2,
                        c == 1 ? ":xtic(2)" : "", quoted(candidates[c].get<std::string>() + " alone"));
  }
  plot += fmt::format("{} with lines dt 2 lc rgb '#444444' title {}", num(amp.at("phase1_baseline").get<double>()),
                      quoted("all at " + candidates[0].get<std::string>()));
  const std::string commands = data + fmt::format(
      "set xtics rotate by 90 right font ',7'\nset ylabel 'phase-1 score'\nset grid ytics\nset key outside top center horizontal\n"
      "set xrange [-1:{}]\n{}", n, plot);
  return {"phase1", wide(n), 560, commands, false};
}

}  // namespace

std::vector<TitledChart> report_charts(const AnalysisReport& r) {
  std::vector<TitledChart> out;
  if (r.sensitivity && !r.sensitivity->blocks.empty()) {
    out.push_back({sweep_chart("sweep_blocks", r.sensitivity->blocks, *r.sensitivity),
                   "Block groups: score with the group enabled alone, and with it disabled", "sensitivity"});
  }
  if (r.sensitivity && !r.sensitivity->activations.empty()) {
    out.push_back({sweep_chart("sweep_activations", r.sensitivity->activations, *r.sensitivity),
                   "Single activation quantizers: enabled alone, and disabled", "sensitivity"});
  }
  if (!r.block_errors.empty()) {
    out.push_back({block_chart(r.block_errors, true), "SQNR of each block's output, quantized vs FP32", "blocks"});
    out.push_back({block_chart(r.block_errors, false), "MSE of each block's output, quantized vs FP32", "blocks"});
  }
  if (!r.mixed_precision.is_null()) {
    out.push_back({pareto_chart(r.mixed_precision), "Mixed precision: score against BitOps (phase 2)", "amp"});
    out.push_back({phase1_chart(r.mixed_precision), "Mixed precision phase 1: each group alone at a cheaper candidate", "amp"});
  }
  for (std::size_t i = 0; i < r.quantizers.size(); ++i) {
    const QuantizerStats& s = r.quantizers[i];
    if (!s.channel_min.empty()) {
      out.push_back({channel_chart(s, i), s.name + ": range of every channel", "channels"});
    }
  }
  for (std::size_t i = 0; i < r.quantizers.size(); ++i) {
    const QuantizerStats& s = r.quantizers[i];
    const std::string what = s.encoding_min.size() > 1
                                 ? fmt::format("{} encodings' overall min/max (dashed)", s.encoding_min.size())
                                 : "encoding min/max";
    out.push_back({histogram_chart(s, i), fmt::format("{} ({}, {} bits): histogram and {}", s.name,
                                                      sim::to_string(s.kind), s.bitwidth, what),
                   "histograms"});
  }
  return out;
}

}  // namespace qsim::ptq::detail
