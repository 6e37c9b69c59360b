#include "qsim/ptq/quantizer_stats.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <regex>

#include <torch/torch.h>

#include "detail/check.hpp"
#include "qsim/log.hpp"
#include "qsim/quant/quantizer_tap.hpp"

namespace qsim::ptq {
namespace {

using sim::QuantizerSlot;

void set_range(QuantizerStats& s) {
  if (!(s.data_min <= s.data_max)) {  // saw nothing: the encoding's span
    s.data_min = *std::min_element(s.encoding_min.begin(), s.encoding_min.end());
    s.data_max = *std::max_element(s.encoding_max.begin(), s.encoding_max.end());
  }
  s.histogram_min = std::min(s.data_min, *std::min_element(s.encoding_min.begin(), s.encoding_min.end()));
  s.histogram_max = std::max(s.data_max, *std::max_element(s.encoding_max.begin(), s.encoding_max.end()));
  if (s.histogram_max <= s.histogram_min) s.histogram_max = s.histogram_min + 1.0;  // one value: a unit span
}

void add_histogram(QuantizerStats& s, const at::Tensor& x, int64_t bins) {
  const at::Tensor h = at::histc(x.detach().to(at::kFloat).reshape({-1}).cpu(), bins, s.histogram_min, s.histogram_max)
                           .to(at::kLong)
                           .contiguous();
  if (s.histogram.empty()) s.histogram.assign(static_cast<std::size_t>(bins), 0);
  const auto counts = h.accessor<int64_t, 1>();
  for (int64_t b = 0; b < bins; ++b) s.histogram[static_cast<std::size_t>(b)] += counts[b];
}

void add_range(QuantizerStats& s, const at::Tensor& x, bool channels) {
  const at::Tensor v = x.detach().to(at::kDouble).cpu();
  s.data_min = std::min(s.data_min, v.min().item<double>());
  s.data_max = std::max(s.data_max, v.max().item<double>());
  if (!channels || v.dim() == 0) return;
  const at::Tensor rows = v.reshape({-1, v.size(-1)});
  const at::Tensor lo_t = std::get<0>(rows.min(0)).contiguous(), hi_t = std::get<0>(rows.max(0)).contiguous();
  const auto lo = lo_t.accessor<double, 1>(), hi = hi_t.accessor<double, 1>();
  if (s.channel_min.empty()) {
    s.channel_min.assign(static_cast<std::size_t>(rows.size(1)), std::numeric_limits<double>::infinity());
    s.channel_max.assign(static_cast<std::size_t>(rows.size(1)), -std::numeric_limits<double>::infinity());
  }
  QSIM_CHECK(static_cast<int64_t>(s.channel_min.size()) == rows.size(1), ValueError,
             "quantizer stats: '{}' saw {} channels, then {}", s.name, s.channel_min.size(), rows.size(1));
  for (int64_t c = 0; c < rows.size(1); ++c) {
    auto i = static_cast<std::size_t>(c);
    s.channel_min[i] = std::min(s.channel_min[i], lo[c]);
    s.channel_max[i] = std::max(s.channel_max[i], hi[c]);
  }
}

// The parameter a parameter slot quantizes, from the model's parameters.
at::Tensor parameter_of(const torch::OrderedDict<std::string, at::Tensor>& params, const QuantizerSlot& slot) {
  const at::Tensor* p = params.find(slot.tensor_name());
  QSIM_CHECK(p != nullptr, ValueError, "quantizer stats: no parameter '{}' for '{}'", slot.tensor_name(), slot.name);
  return *p;
}

}  // namespace

std::vector<int64_t> QuantizerStats::outlier_channels(double factor) const {
  std::vector<double> ranges;
  for (std::size_t c = 0; c < channel_min.size(); ++c) ranges.push_back(channel_max[c] - channel_min[c]);
  if (ranges.empty()) return {};
  std::vector<double> sorted = ranges;
  const std::size_t middle = (sorted.size() - 1) / 2;  // the lower median, as torch::median
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(middle), sorted.end());
  const double median = sorted[middle];
  std::vector<int64_t> out;
  for (std::size_t c = 0; c < ranges.size(); ++c) {
    if (ranges[c] > factor * median) out.push_back(static_cast<int64_t>(c));
  }
  return out;
}

nlohmann::json QuantizerStats::to_json() const {
  nlohmann::json j = {{"name", name},
                      {"kind", std::string(sim::to_string(kind))},
                      {"bitwidth", bitwidth},
                      {"encoding_min", encoding_min},
                      {"encoding_max", encoding_max},
                      {"data_min", data_min},
                      {"data_max", data_max},
                      {"histogram_min", histogram_min},
                      {"histogram_max", histogram_max},
                      {"histogram", histogram}};
  if (!channel_min.empty()) {
    j["channel_min"] = channel_min;
    j["channel_max"] = channel_max;
    j["outlier_channels"] = outlier_channels();
  }
  return j;
}

std::vector<QuantizerStats> quantizer_stats(sim::QuantSim& sim, const std::function<void(torch::nn::Module&)>& forward_pass,
                                            const QuantizerStatsOptions& options) {
  QSIM_CHECK(sim.calibrated(), ConfigError, "quantizer stats: the simulation must be calibrated first");
  QSIM_CHECK(options.bins() > 0, ConfigError, "quantizer stats: bins must be > 0, got {}", options.bins());
  QSIM_CHECK(static_cast<bool>(forward_pass), ConfigError, "quantizer stats: needs the calibration forward pass");
  const std::regex channel_pattern(options.channel_pattern());
  const sim::Mode mode = sim.mode();
  std::vector<QuantizerStats> out;
  std::vector<const QuantizerSlot*> activations;
  const auto params = sim.model()->named_parameters(/*recurse=*/true);
  for (const QuantizerSlot& s : sim.quantizers()) {
    if (!s.active) continue;
    const auto encodings = s.node->encodings();
    QuantizerStats st{s.name, s.kind, s.node->options.bitwidth(), {}, {}, std::numeric_limits<double>::infinity(),
                      -std::numeric_limits<double>::infinity(), 0.0, 0.0, {}, {}, {}};
    for (const auto& e : encodings) st.encoding_min.push_back(e.min), st.encoding_max.push_back(e.max);
    if (st.encoding_min.empty()) continue;  // active but never encoded
    out.push_back(std::move(st));
    if (s.kind == sim::SlotKind::param) {
      const at::Tensor w = parameter_of(params, s);
      add_range(out.back(), w, false);
      set_range(out.back());
      add_histogram(out.back(), w, options.bins());
    } else {
      activations.push_back(&s);
    }
  }
  // What calibration saw: weights quantized, activation quantizers off (taps see their inputs).
  std::vector<std::string> turned_off;
  for (const QuantizerSlot* s : activations) turned_off.push_back(s->name);
  for (const std::string& name : turned_off) sim.set_enabled(name, false);
  sim.set_mode(sim::Mode::quantized);
  const auto pass = [&](const std::function<void(QuantizerStats&, const at::Tensor&)>& see) {
    std::vector<std::unique_ptr<quant::QuantizerTap>> taps;
    std::size_t k = 0;
    for (QuantizerStats& st : out) {
      if (st.kind == sim::SlotKind::param) continue;
      QuantizerStats* target = &st;
      taps.push_back(std::make_unique<quant::QuantizerTap>(activations[k++]->node,
                                                           [&see, target](const at::Tensor& x) { see(*target, x); }));
    }
    torch::NoGradGuard no_grad;
    forward_pass(*sim.model());
  };
  try {
    pass([&](QuantizerStats& st, const at::Tensor& x) {
      add_range(st, x, std::regex_search(st.name, channel_pattern));
    });
    for (QuantizerStats& st : out) {
      if (st.kind != sim::SlotKind::param) set_range(st);
    }
    pass([&](QuantizerStats& st, const at::Tensor& x) { add_histogram(st, x, options.bins()); });
  } catch (...) {
    for (const std::string& name : turned_off) sim.set_enabled(name, true);
    sim.set_mode(mode);
    throw;
  }
  for (const std::string& name : turned_off) sim.set_enabled(name, true);
  sim.set_mode(mode);
  logger()->info("quantizer stats: {} quantizers, {} activations histogrammed", out.size(), activations.size());
  return out;
}

}  // namespace qsim::ptq
