#include "qsim/ptq/mixed_precision.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <unordered_map>

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"
#include "qsim/io/checkpoint.hpp"
#include "qsim/log.hpp"

namespace qsim::ptq {
namespace {

using Clock = std::chrono::steady_clock;
using Config = std::vector<std::size_t>;  // candidate index per group

int cost(const Candidate& c) { return c.activation_bits * c.weight_bits; }

// Scores already computed, kept in a JSON file so that a rerun skips them. The
// fingerprint (candidates and groups) must match, else the file is ignored.
class ScoreCache {
 public:
  ScoreCache(std::string path, nlohmann::json fingerprint) : path_(std::move(path)), fingerprint_(std::move(fingerprint)) {
    data_ = {{"fingerprint", fingerprint_}, {"scores", nlohmann::json::object()}};
    if (path_.empty() || !std::filesystem::exists(path_)) return;
    const nlohmann::json old = io::read_json_file(path_);
    if (old.value("fingerprint", nlohmann::json()) == fingerprint_ && old.contains("scores")) {
      data_ = old;
      logger()->info("mixed precision: {} cached scores from {}", data_["scores"].size(), path_);
    } else {
      logger()->warn("mixed precision: {} holds scores of other candidates or groups; starting afresh", path_);
    }
  }
  template <typename F>
  double get(const std::string& key, F&& compute) {
    auto& scores = data_["scores"];
    if (scores.contains(key)) return scores[key].get<double>();
    const double v = compute();
    scores[key] = v;
    if (!path_.empty()) io::write_file_atomically(path_, data_.dump(1));
    ++computed_;
    return v;
  }
  int64_t computed() const { return computed_; }

 private:
  std::string path_;
  nlohmann::json fingerprint_;
  nlohmann::json data_;
  int64_t computed_ = 0;
};

class AmpRun {
 public:
  AmpRun(sim::QuantSim& sim, const AmpCallbacks& cb, const AmpResult& r) : sim_(sim), cb_(cb), r_(r) {
    for (std::size_t g = 0; g < r.groups.size(); ++g) {
      for (const std::string& q : r.groups[g].quantizers) group_of_[q] = g;
    }
  }

  // Sets every group's bitwidths, calibrates afresh, quantized mode.
  void apply(const Config& config) {
    for (std::size_t g = 0; g < r_.groups.size(); ++g) {
      const Candidate& c = r_.candidates[config[g]];
      for (const std::string& q : r_.groups[g].quantizers) {
        const bool param = sim_.slot(q).kind == sim::SlotKind::param;
        sim_.quantizer(q)->options.bitwidth(param ? c.weight_bits : c.activation_bits);
      }
    }
    sim_.compute_encodings(cb_.calibrate);
    sim_.set_mode(sim::Mode::quantized);
  }

  double bitops_of(const Config& config) const {
    return bitops(r_.macs, [&](const std::string& q) {
      const sim::QuantizerSlot& s = sim_.slot(q);
      const auto it = group_of_.find(q);
      if (it == group_of_.end()) return s.active ? s.node->options.bitwidth() : 32;
      const Candidate& c = r_.candidates[config[it->second]];
      return s.kind == sim::SlotKind::param ? c.weight_bits : c.activation_bits;
    });
  }

  double score(const Config& config, const std::function<double(torch::nn::Module&)>& metric) {
    apply(config);
    return metric(*sim_.model());
  }

 private:
  sim::QuantSim& sim_;
  const AmpCallbacks& cb_;
  const AmpResult& r_;
  std::unordered_map<std::string, std::size_t> group_of_;
};

std::string key(const std::string& phase, const std::string& group, const Candidate& c) {
  return fmt::format("{}|{}|{}", phase, group, c.label());
}

void phase1(AmpRun& run, ScoreCache& cache, const AmpCallbacks& cb, AmpResult& r) {
  const Config baseline(r.groups.size(), 0);
  r.phase1_baseline = cache.get("phase1|baseline", [&] { return run.score(baseline, cb.phase1_score); });
  r.phase1.assign(r.groups.size(), std::vector<double>(r.candidates.size(), std::numeric_limits<double>::quiet_NaN()));
  for (std::size_t g = 0; g < r.groups.size(); ++g) {
    for (std::size_t c = 1; c < r.candidates.size(); ++c) {
      if (cost(r.candidates[c]) >= cost(r.candidates[0])) continue;
      Config config = baseline;
      config[g] = c;
      r.phase1[g][c] = cache.get(key("phase1", r.groups[g].name, r.candidates[c]),
                                 [&] { return run.score(config, cb.phase1_score); });
      logger()->info("mixed precision: phase 1 {}/{} {} at {}: {:.4g} (baseline {:.4g})", g + 1, r.groups.size(),
                     r.groups[g].name, r.candidates[c].label(), r.phase1[g][c], r.phase1_baseline);
    }
  }
}

void phase2(AmpRun& run, ScoreCache& cache, const AmpCallbacks& cb, AmpResult& r, std::vector<Config>& configs) {
  struct Flip {
    std::size_t group, candidate;
    double score;
  };
  std::vector<Flip> flips;
  for (std::size_t g = 0; g < r.groups.size(); ++g) {
    for (std::size_t c = 0; c < r.candidates.size(); ++c) {
      if (!std::isnan(r.phase1[g][c])) flips.push_back({g, c, r.phase1[g][c]});
    }
  }
  std::stable_sort(flips.begin(), flips.end(), [&](const Flip& a, const Flip& b) {
    if (a.score != b.score) return a.score > b.score;
    return cost(r.candidates[a.candidate]) < cost(r.candidates[b.candidate]);
  });
  Config current(r.groups.size(), 0);
  const double base_bitops = run.bitops_of(current);
  double current_bitops = base_bitops;
  configs = {current};
  r.points = {{"", r.candidates[0], 1.0, cache.get("phase2|baseline", [&] { return run.score(current, cb.evaluate); }), false}};
  for (const Flip& f : flips) {
    Config next = current;
    next[f.group] = f.candidate;
    const double next_bitops = run.bitops_of(next);
    if (next_bitops >= current_bitops) continue;
    current = next;
    current_bitops = next_bitops;
    const std::string step = fmt::format("phase2|{}|{}", r.points.size(), key("", r.groups[f.group].name, r.candidates[f.candidate]));
    const double score = cache.get(step, [&] { return run.score(current, cb.evaluate); });
    r.points.push_back({r.groups[f.group].name, r.candidates[f.candidate], current_bitops / base_bitops, score, false});
    configs.push_back(current);
    logger()->info("mixed precision: phase 2 step {}: {} at {} → BitOps {:.3f}, score {:.4g}", r.points.size() - 1,
                   r.groups[f.group].name, r.candidates[f.candidate].label(), r.points.back().relative_bitops, score);
  }
}

void mark_pareto(std::vector<AmpPoint>& points) {
  for (AmpPoint& p : points) {
    p.pareto_optimal = std::none_of(points.begin(), points.end(), [&](const AmpPoint& o) {
      return o.relative_bitops <= p.relative_bitops && o.score > p.score;
    });
  }
}

}  // namespace

std::string Candidate::label() const { return fmt::format("A{}/W{}", activation_bits, weight_bits); }

void validate_candidates(const std::vector<Candidate>& candidates) {
  QSIM_CHECK(!candidates.empty(), ConfigError, "mixed precision: the candidate list is empty");
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    QSIM_CHECK(c.activation_bits >= 4 && c.activation_bits <= 32, ConfigError,
               "mixed precision: candidate {} has {} activation bits; expected 4..32", c.label(), c.activation_bits);
    QSIM_CHECK(c.weight_bits >= 2 && c.weight_bits <= 32, ConfigError,
               "mixed precision: candidate {} has {} weight bits; expected 2..32", c.label(), c.weight_bits);
    for (std::size_t j = 0; j < i; ++j) {
      QSIM_CHECK(!(candidates[j] == c), ConfigError, "mixed precision: candidate {} is listed twice", c.label());
    }
  }
}

std::vector<Candidate> parse_candidates(std::string_view text) {
  std::vector<Candidate> out;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const std::size_t end = std::min(text.find(',', begin), text.size());
    const std::string item(text.substr(begin, end - begin));
    int a = 0, w = 0;
    char rest = 0;
    QSIM_CHECK(std::sscanf(item.c_str(), "%d/%d%c", &a, &w, &rest) == 2, ConfigError,
               "mixed precision: candidate '{}' in '{}' is not ACTIVATION_BITS/WEIGHT_BITS (e.g. 8/8)", item, text);
    out.push_back({a, w});
    begin = end + 1;
  }
  validate_candidates(out);
  return out;
}

void AmpOptions::validate() const {
  validate_candidates(candidates());
  QSIM_CHECK(allowed_drop() >= 0.0 && std::isfinite(allowed_drop()), ConfigError,
             "mixed precision: allowed_drop must be a finite number >= 0, got {}", allowed_drop());
}

std::string exact_pattern(const std::string& name) {
  std::string out = "^";
  for (const char ch : name) {
    if (std::string_view(R"(\^$.|?*+()[]{}/)").find(ch) != std::string_view::npos) out += '\\';
    out += ch;
  }
  return out + "$";
}

std::vector<sim::BitwidthOverride> AmpResult::overrides(const sim::QuantSim& sim) const {
  std::vector<sim::BitwidthOverride> out;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const std::string& q : groups[g].quantizers) {
      const bool param = sim.slot(q).kind == sim::SlotKind::param;
      const Candidate& c = chosen_config[g];
      out.push_back({exact_pattern(q), param ? c.weight_bits : c.activation_bits});
    }
  }
  return out;
}

nlohmann::json AmpResult::to_json(const sim::QuantSim& sim) const {
  nlohmann::json labels = nlohmann::json::array();
  for (const Candidate& c : candidates) labels.push_back(c.label());
  nlohmann::json phase1_json = nlohmann::json::array();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    nlohmann::json scores = nlohmann::json::object();
    for (std::size_t c = 0; c < candidates.size(); ++c) {
      if (!std::isnan(phase1[g][c])) scores[candidates[c].label()] = phase1[g][c];
    }
    phase1_json.push_back({{"group", groups[g].name}, {"scores", scores}});
  }
  nlohmann::json points_json = nlohmann::json::array();
  for (const AmpPoint& p : points) {
    points_json.push_back({{"group", p.group}, {"candidate", p.candidate.label()}, {"relative_bitops", p.relative_bitops},
                           {"score", p.score}, {"pareto_optimal", p.pareto_optimal}});
  }
  nlohmann::json config = nlohmann::json::array();
  for (std::size_t g = 0; g < groups.size(); ++g) config.push_back({{"group", groups[g].name}, {"candidate", chosen_config[g].label()}});
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& o : overrides(sim)) rules.push_back({{"pattern", o.pattern}, {"bitwidth", o.bitwidth}});
  return {{"candidates", labels},       {"baseline", candidates.front().label()},
          {"groups", ptq::to_json(groups)}, {"macs", ptq::to_json(macs)},
          {"fp32", fp32},               {"phase1_baseline", phase1_baseline},
          {"phase1", phase1_json},      {"points", points_json},
          {"chosen", chosen},           {"met", met},
          {"allowed_drop", allowed_drop}, {"chosen_config", config},
          {"bitwidth_overrides", rules}, {"evaluations", evaluations},
          {"seconds", seconds}};
}

std::vector<sim::BitwidthOverride> load_bitwidth_overrides(const std::string& path) {
  const nlohmann::json json = io::read_json_file(path);
  QSIM_CHECK(json.is_object() && json.contains("bitwidth_overrides") && json["bitwidth_overrides"].is_array(), ConfigError,
             "{}: expected an object with a \"bitwidth_overrides\" list", path);
  std::vector<sim::BitwidthOverride> out;
  for (const nlohmann::json& rule : json["bitwidth_overrides"]) {
    QSIM_CHECK(rule.is_object() && rule.contains("pattern") && rule["pattern"].is_string() && rule.contains("bitwidth") &&
                   rule["bitwidth"].is_number_integer(),
               ConfigError, "{}: bitwidth_overrides entry {} needs a string \"pattern\" and an integer \"bitwidth\"", path,
               out.size());
    out.push_back({rule["pattern"].get<std::string>(), rule["bitwidth"].get<int>()});
  }
  return out;
}

AmpResult choose_mixed_precision(sim::QuantSim& sim, const AmpCallbacks& callbacks, const AmpOptions& options) {
  options.validate();
  QSIM_CHECK(callbacks.calibrate && callbacks.phase1_score && callbacks.evaluate, ConfigError,
             "mixed precision needs three callbacks: calibrate, phase1_score and evaluate");
  const auto start = Clock::now();
  AmpResult r;
  r.allowed_drop = options.allowed_drop();
  r.candidates = options.candidates();
  std::stable_sort(r.candidates.begin(), r.candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return cost(a) > cost(b); });
  sim.compute_encodings(callbacks.calibrate);  // the active set the groups are made of
  r.groups = mixed_precision_groups(sim);
  sort_by_forward_order(r.groups, sim, forward_order(sim, callbacks.calibrate));
  QSIM_CHECK(!r.groups.empty(), ConfigError, "mixed precision: the simulation has no active quantizer to group");
  r.macs = count_macs(sim, callbacks.calibrate);
  nlohmann::json fingerprint = {{"candidates", nlohmann::json::array()}, {"groups", ptq::to_json(r.groups)}};
  for (const Candidate& c : r.candidates) fingerprint["candidates"].push_back(c.label());
  ScoreCache cache(options.cache_file(), fingerprint);
  AmpRun run(sim, callbacks, r);
  r.fp32 = cache.get("fp32", [&] {
    sim.set_mode(sim::Mode::fp32);
    return callbacks.evaluate(*sim.model());
  });
  logger()->info("mixed precision: {} groups, candidates from {} down; FP32 {:.4g}", r.groups.size(),
                 r.candidates.front().label(), r.fp32);
  phase1(run, cache, callbacks, r);
  std::vector<Config> configs;
  phase2(run, cache, callbacks, r, configs);
  mark_pareto(r.points);
  const double floor = r.fp32 - r.allowed_drop;
  r.met = false;
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    if (r.points[i].score >= floor && (!r.met || r.points[i].relative_bitops < r.points[r.chosen].relative_bitops)) {
      r.chosen = i;
      r.met = true;
    }
  }
  if (!r.met) {
    logger()->warn("mixed precision: no configuration within {} of FP32 ({:.4g}); keeping the baseline {}",
                   r.allowed_drop, r.fp32, r.candidates.front().label());
  }
  for (const std::size_t c : configs[r.chosen]) r.chosen_config.push_back(r.candidates[c]);
  run.apply(configs[r.chosen]);
  r.evaluations = cache.computed();
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  logger()->info("mixed precision: chose step {} (BitOps {:.3f} of {}, score {:.4g}) after {} evaluations in {:.0f} s",
                 r.chosen, r.points[r.chosen].relative_bitops, r.candidates.front().label(), r.points[r.chosen].score,
                 r.evaluations, r.seconds);
  return r;
}

}  // namespace qsim::ptq
