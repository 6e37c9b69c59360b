#include "qsim/tasks/squad_metrics.hpp"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "detail/check.hpp"
#include "qsim/text/unicode.hpp"

namespace qsim::tasks {
namespace {

bool is_ascii_punctuation(char32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

// re.sub(r'\b(a|an|the)\b', ' ', text): boundaries are judged on the input string.
std::u32string remove_articles(const std::u32string& s) {
  auto word = [&](size_t i) { return i < s.size() && text::is_python_word_char(s[i]); };
  auto boundary = [&](size_t i) { return (i > 0 && word(i - 1)) != word(i); };
  constexpr std::array<std::u32string_view, 3> kArticles{U"a", U"an", U"the"};
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t matched = 0;
    if (boundary(i)) {
      for (const auto article : kArticles) {
        if (s.compare(i, article.size(), article) == 0 && boundary(i + article.size())) {
          matched = article.size();
          break;
        }
      }
    }
    if (matched > 0) {
      out.push_back(U' ');
      i += matched;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

std::vector<std::string> split_tokens(const std::string& normalized) {
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos < normalized.size()) {
    size_t end = normalized.find(' ', pos);
    if (end == std::string::npos) end = normalized.size();
    if (end > pos) tokens.push_back(normalized.substr(pos, end - pos));
    pos = end + 1;
  }
  return tokens;
}

template <typename Metric>
double max_over_ground_truths(Metric metric, std::string_view prediction,
                              const std::vector<SquadAnswer>& answers) {
  double best = metric(prediction, answers.front().text);
  for (size_t i = 1; i < answers.size(); ++i) best = std::max(best, metric(prediction, answers[i].text));
  return best;
}

}  // namespace

std::string normalize_answer(std::string_view text) {
  std::u32string lowered;
  text::append_python_lower(text::decode_utf8(text), lowered);
  std::u32string no_punct;
  for (const char32_t c : lowered) {
    if (!is_ascii_punctuation(c)) no_punct.push_back(c);
  }
  const std::u32string no_articles = remove_articles(no_punct);
  std::u32string out;  // ' '.join(text.split())
  bool pending = false;
  for (const char32_t c : no_articles) {
    if (text::is_python_space(c)) {
      pending = !out.empty();
    } else {
      if (pending) out.push_back(U' ');
      out.push_back(c);
      pending = false;
    }
  }
  return text::encode_utf8(out);
}

double squad_exact_match(std::string_view prediction, std::string_view ground_truth) {
  return normalize_answer(prediction) == normalize_answer(ground_truth) ? 1.0 : 0.0;
}

double squad_f1(std::string_view prediction, std::string_view ground_truth) {
  const std::vector<std::string> pred = split_tokens(normalize_answer(prediction));
  const std::vector<std::string> gold = split_tokens(normalize_answer(ground_truth));
  std::unordered_map<std::string, int64_t> gold_counts;
  for (const auto& t : gold) ++gold_counts[t];
  int64_t same = 0;
  for (const auto& t : pred) {
    auto it = gold_counts.find(t);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  const double precision = 1.0 * static_cast<double>(same) / static_cast<double>(pred.size());
  const double recall = 1.0 * static_cast<double>(same) / static_cast<double>(gold.size());
  return (2 * precision * recall) / (precision + recall);
}

SquadScores evaluate_squad(const std::vector<SquadExample>& examples,
                           const std::map<std::string, std::string>& predictions) {
  QSIM_CHECK(!examples.empty(), ValueError, "squad evaluation: the dataset has no questions");
  SquadScores scores;
  double exact_match = 0.0;
  double f1 = 0.0;
  for (const SquadExample& example : examples) {
    ++scores.num_questions;
    const auto it = predictions.find(example.qas_id);
    if (it == predictions.end()) {
      scores.unanswered.push_back(example.qas_id);
      continue;
    }
    QSIM_CHECK(!example.answers.empty(), ValueError, "squad evaluation: question '{}' has no answers",
               example.qas_id);
    exact_match += max_over_ground_truths(squad_exact_match, it->second, example.answers);
    f1 += max_over_ground_truths(squad_f1, it->second, example.answers);
  }
  const auto total = static_cast<double>(scores.num_questions);
  scores.exact_match = 100.0 * exact_match / total;
  scores.f1 = 100.0 * f1 / total;
  return scores;
}

}  // namespace qsim::tasks
