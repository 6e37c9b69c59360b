#include "qsim/tasks/squad_predictions.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

#include "detail/check.hpp"
#include "qsim/text/basic_tokenizer.hpp"
#include "qsim/text/unicode.hpp"

namespace qsim::tasks {
namespace {

struct Candidate {
  size_t feature;
  int64_t start;
  int64_t end;
  double start_logit;
  double end_logit;
};

// Indices of the n largest logits; equal logits keep index order (Python's stable sort).
std::vector<int64_t> best_indexes(const std::vector<float>& logits, int64_t n) {
  std::vector<int64_t> order(logits.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)];
  });
  if (static_cast<int64_t>(order.size()) > n) order.resize(static_cast<size_t>(n));
  return order;
}

std::vector<double> softmax(const std::vector<double>& scores) {
  if (scores.empty()) return {};
  const double max_score = *std::max_element(scores.begin(), scores.end());
  std::vector<double> probs;
  double total = 0.0;
  for (const double s : scores) {
    probs.push_back(std::exp(s - max_score));
    total += probs.back();
  }
  for (double& p : probs) p /= total;
  return probs;
}

void replace_all(std::string& text, std::string_view from) {
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) text.erase(pos, from.size());
}

// " ".join(text.strip().split()) for text without non-ASCII whitespace.
std::string collapse_spaces(const std::string& text) {
  std::string out;
  bool pending = false;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      pending = !out.empty();
    } else {
      if (pending) out.push_back(' ');
      out.push_back(c);
      pending = false;
    }
  }
  return out;
}

std::string detokenize(const SquadFeature& feature, const Candidate& c, const text::Vocab& vocab) {
  std::string joined;
  for (int64_t k = c.start; k <= c.end; ++k) {
    if (k > c.start) joined.push_back(' ');
    joined += vocab.token(feature.input_ids[static_cast<size_t>(k)]);
  }
  replace_all(joined, " ##");
  replace_all(joined, "##");
  return collapse_spaces(joined);
}

std::string original_text(const SquadExample& example, const SquadFeature& feature, const Candidate& c) {
  const int64_t first = feature.token_to_orig_map[static_cast<size_t>(c.start)];
  const int64_t last = feature.token_to_orig_map[static_cast<size_t>(c.end)];
  std::string joined;
  for (int64_t w = first; w <= last; ++w) {
    if (w > first) joined.push_back(' ');
    joined += example.doc_tokens[static_cast<size_t>(w)];
  }
  return joined;
}

std::vector<Candidate> candidates(const std::vector<const SquadFeature*>& features,
                                  const std::vector<const SquadResult*>& results,
                                  const SquadPredictionOptions& options) {
  std::vector<Candidate> out;
  for (size_t f = 0; f < features.size(); ++f) {
    const SquadFeature& feature = *features[f];
    const SquadResult& result = *results[f];
    for (const int64_t start : best_indexes(result.start_logits, options.n_best_size)) {
      for (const int64_t end : best_indexes(result.end_logits, options.n_best_size)) {
        if (start >= feature.num_tokens || end >= feature.num_tokens) continue;
        if (feature.token_to_orig_map[static_cast<size_t>(start)] < 0) continue;
        if (feature.token_to_orig_map[static_cast<size_t>(end)] < 0) continue;
        if (feature.token_is_max_context[static_cast<size_t>(start)] == 0) continue;
        if (end < start || end - start + 1 > options.max_answer_length) continue;
        out.push_back({f, start, end, result.start_logits[static_cast<size_t>(start)],
                       result.end_logits[static_cast<size_t>(end)]});
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    return a.start_logit + a.end_logit > b.start_logit + b.end_logit;
  });
  return out;
}

SquadPrediction predict_example(const SquadExample& example, const std::vector<const SquadFeature*>& features,
                                const std::vector<const SquadResult*>& results, const text::Vocab& vocab,
                                const SquadPredictionOptions& options) {
  SquadPrediction prediction;
  prediction.qas_id = example.qas_id;
  std::set<std::string> seen;
  for (const Candidate& c : candidates(features, results, options)) {
    if (static_cast<int64_t>(prediction.nbest.size()) >= options.n_best_size) break;
    const SquadFeature& feature = *features[c.feature];
    std::string text = get_final_text(detokenize(feature, c, vocab), original_text(example, feature, c),
                                      options.do_lower_case);
    if (!seen.insert(text).second) continue;
    prediction.nbest.push_back({std::move(text), c.start_logit, c.end_logit, 0.0});
  }
  if (prediction.nbest.empty()) prediction.nbest.push_back({"empty", 0.0, 0.0, 0.0});
  std::vector<double> scores;
  for (const auto& entry : prediction.nbest) scores.push_back(entry.start_logit + entry.end_logit);
  const std::vector<double> probs = softmax(scores);
  for (size_t i = 0; i < probs.size(); ++i) prediction.nbest[i].probability = probs[i];
  prediction.text = prediction.nbest.front().text;
  return prediction;
}

// Non-space characters of `text` and, for each, its index in `text`.
std::pair<std::u32string, std::vector<size_t>> strip_spaces(const std::u32string& text) {
  std::u32string chars;
  std::vector<size_t> to_original;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == U' ') continue;
    chars.push_back(text[i]);
    to_original.push_back(i);
  }
  return {chars, to_original};
}

}  // namespace

std::vector<SquadPrediction> squad_predictions(const std::vector<SquadExample>& examples,
                                               const std::vector<SquadFeature>& features,
                                               const std::vector<SquadResult>& results,
                                               const text::Vocab& vocab,
                                               const SquadPredictionOptions& options) {
  std::unordered_map<int64_t, const SquadResult*> by_id;
  for (const SquadResult& r : results) by_id[r.unique_id] = &r;
  std::vector<std::vector<const SquadFeature*>> example_features(examples.size());
  std::vector<std::vector<const SquadResult*>> example_results(examples.size());
  for (const SquadFeature& f : features) {
    QSIM_CHECK(f.example_index >= 0 && f.example_index < static_cast<int64_t>(examples.size()), ValueError,
               "squad predictions: feature {} refers to example {}, but there are {} examples",
               f.unique_id, f.example_index, examples.size());
    const auto it = by_id.find(f.unique_id);
    QSIM_CHECK(it != by_id.end(), ValueError, "squad predictions: no result for feature {}", f.unique_id);
    QSIM_CHECK(it->second->start_logits.size() == f.input_ids.size() &&
                   it->second->end_logits.size() == f.input_ids.size(),
               ValueError, "squad predictions: feature {} has {} positions but {} start and {} end logits",
               f.unique_id, f.input_ids.size(), it->second->start_logits.size(), it->second->end_logits.size());
    example_features[static_cast<size_t>(f.example_index)].push_back(&f);
    example_results[static_cast<size_t>(f.example_index)].push_back(it->second);
  }
  std::vector<SquadPrediction> predictions;
  predictions.reserve(examples.size());
  for (size_t e = 0; e < examples.size(); ++e) {
    predictions.push_back(predict_example(examples[e], example_features[e], example_results[e], vocab, options));
  }
  return predictions;
}

std::string get_final_text(std::string_view pred_text, std::string_view orig_text, bool do_lower_case) {
  const text::BasicTokenizer tokenizer(do_lower_case);
  std::string joined;
  for (const auto& token : tokenizer.tokenize(orig_text)) {
    if (!joined.empty()) joined.push_back(' ');
    joined += token;
  }
  const std::u32string tok_text = text::decode_utf8(joined);
  const std::u32string pred = text::decode_utf8(pred_text);
  const std::u32string orig = text::decode_utf8(orig_text);
  const size_t start = tok_text.find(pred);
  if (start == std::u32string::npos) return std::string(orig_text);
  const size_t end = start + pred.size() - 1;

  const auto [orig_ns, orig_ns_to_s] = strip_spaces(orig);
  const auto [tok_ns, tok_ns_to_s] = strip_spaces(tok_text);
  if (orig_ns.size() != tok_ns.size()) return std::string(orig_text);
  std::map<size_t, size_t> tok_s_to_ns;
  for (size_t i = 0; i < tok_ns_to_s.size(); ++i) tok_s_to_ns[tok_ns_to_s[i]] = i;

  // Captured by name: C++17 lambdas cannot capture structured bindings.
  const auto& orig_map = orig_ns_to_s;
  auto to_original = [&](size_t tok_position) -> std::optional<size_t> {
    const auto it = tok_s_to_ns.find(tok_position);
    if (it == tok_s_to_ns.end() || it->second >= orig_map.size()) return std::nullopt;
    return orig_map[it->second];
  };
  const std::optional<size_t> orig_start = to_original(start);
  const std::optional<size_t> orig_end = to_original(end);
  if (!orig_start || !orig_end) return std::string(orig_text);
  if (*orig_end < *orig_start) return std::string();
  return text::encode_utf8(std::u32string_view(orig).substr(*orig_start, *orig_end - *orig_start + 1));
}

}  // namespace qsim::tasks
