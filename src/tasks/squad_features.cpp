#include "qsim/tasks/squad_features.hpp"

#include <algorithm>
#include <optional>
#include <tuple>
#include <utility>

#include "detail/check.hpp"

namespace qsim::tasks {
namespace {

struct DocSpan {
  int64_t start;
  int64_t length;
};

struct WordPieces {
  std::vector<int64_t> ids;               // all_doc_tokens
  std::vector<int64_t> tok_to_orig;       // piece -> doc token
  std::vector<int64_t> orig_to_tok;       // doc token -> first piece
};

WordPieces word_piece_document(const SquadExample& example, const text::BertTokenizer& tokenizer) {
  WordPieces pieces;
  text::TokenBuffer scratch;
  for (size_t i = 0; i < example.doc_tokens.size(); ++i) {
    pieces.orig_to_tok.push_back(static_cast<int64_t>(pieces.ids.size()));
    tokenizer.tokenize_ids(example.doc_tokens[i], pieces.ids, scratch);
    pieces.tok_to_orig.resize(pieces.ids.size(), static_cast<int64_t>(i));
  }
  return pieces;
}

std::vector<DocSpan> doc_spans(int64_t num_pieces, int64_t max_tokens_for_doc, int64_t doc_stride) {
  std::vector<DocSpan> spans;
  int64_t start = 0;
  while (start < num_pieces) {
    const int64_t length = std::min(num_pieces - start, max_tokens_for_doc);
    spans.push_back({start, length});
    if (start + length == num_pieces) break;
    start += std::min(length, doc_stride);
  }
  return spans;
}

bool is_max_context(const std::vector<DocSpan>& spans, size_t current, int64_t position) {
  std::optional<double> best_score;
  size_t best = 0;
  for (size_t s = 0; s < spans.size(); ++s) {
    const int64_t end = spans[s].start + spans[s].length - 1;
    if (position < spans[s].start || position > end) continue;
    const int64_t left = position - spans[s].start;
    const int64_t right = end - position;
    const double score = static_cast<double>(std::min(left, right)) + 0.01 * static_cast<double>(spans[s].length);
    if (!best_score || score > *best_score) {
      best_score = score;
      best = s;
    }
  }
  return best_score && best == current;
}

// run_squad.py `_improve_answer_span`: the tightest piece span equal to the
// word-pieced answer text.
std::pair<int64_t, int64_t> improve_answer_span(const std::vector<int64_t>& doc, int64_t start, int64_t end,
                                                const std::vector<int64_t>& answer) {
  for (int64_t s = start; s <= end; ++s) {
    for (int64_t e = end; e >= s; --e) {
      if (e - s + 1 == static_cast<int64_t>(answer.size()) &&
          std::equal(answer.begin(), answer.end(), doc.begin() + s)) {
        return {s, e};
      }
    }
  }
  return {start, end};
}

}  // namespace

std::vector<SquadFeature> convert_squad_examples(const std::vector<SquadExample>& examples,
                                                 const text::BertTokenizer& tokenizer,
                                                 const SquadFeatureOptions& options) {
  QSIM_CHECK(options.doc_stride > 0 && options.max_query_length >= 0, ConfigError,
             "squad features: doc_stride must be positive and max_query_length non-negative, got {} and {}",
             options.doc_stride, options.max_query_length);
  std::vector<SquadFeature> features;
  int64_t unique_id = 1000000000;
  for (size_t e = 0; e < examples.size(); ++e) {
    const SquadExample& example = examples[e];
    if (options.is_training && example.start_position < 0) continue;
    std::vector<int64_t> query = tokenizer.tokenize_ids(example.question_text);
    if (static_cast<int64_t>(query.size()) > options.max_query_length) {
      query.resize(static_cast<size_t>(options.max_query_length));
    }
    const WordPieces doc = word_piece_document(example, tokenizer);
    const int64_t max_tokens_for_doc = options.max_seq_length - static_cast<int64_t>(query.size()) - 3;
    QSIM_CHECK(max_tokens_for_doc > 0, ConfigError,
               "squad features: max_seq_length {} leaves no room for the document after {} query tokens",
               options.max_seq_length, query.size());

    int64_t tok_start = -1;
    int64_t tok_end = -1;
    if (options.is_training) {
      tok_start = doc.orig_to_tok[static_cast<size_t>(example.start_position)];
      tok_end = example.end_position + 1 < static_cast<int64_t>(example.doc_tokens.size())
                    ? doc.orig_to_tok[static_cast<size_t>(example.end_position + 1)] - 1
                    : static_cast<int64_t>(doc.ids.size()) - 1;
      std::tie(tok_start, tok_end) = improve_answer_span(
          doc.ids, tok_start, tok_end, tokenizer.tokenize_ids(example.answers.front().text));
    }

    const std::vector<DocSpan> spans =
        doc_spans(static_cast<int64_t>(doc.ids.size()), max_tokens_for_doc, options.doc_stride);
    for (size_t s = 0; s < spans.size(); ++s) {
      SquadFeature feature;
      feature.unique_id = unique_id++;
      feature.example_index = static_cast<int64_t>(e);
      feature.doc_span_index = static_cast<int64_t>(s);
      auto push = [&](int64_t id, int64_t type, int64_t orig, bool max_context) {
        feature.input_ids.push_back(id);
        feature.token_type_ids.push_back(type);
        feature.attention_mask.push_back(1);
        feature.token_to_orig_map.push_back(orig);
        feature.token_is_max_context.push_back(max_context ? 1 : 0);
      };
      push(tokenizer.cls_id(), 0, -1, false);
      for (const int64_t id : query) push(id, 0, -1, false);
      push(tokenizer.sep_id(), 0, -1, false);
      for (int64_t i = 0; i < spans[s].length; ++i) {
        const int64_t piece = spans[s].start + i;
        push(doc.ids[static_cast<size_t>(piece)], 1, doc.tok_to_orig[static_cast<size_t>(piece)],
             is_max_context(spans, s, piece));
      }
      push(tokenizer.sep_id(), 1, -1, false);
      feature.num_tokens = static_cast<int64_t>(feature.input_ids.size());
      const auto length = static_cast<size_t>(options.max_seq_length);
      feature.input_ids.resize(length, 0);
      feature.token_type_ids.resize(length, 0);
      feature.attention_mask.resize(length, 0);
      if (options.is_training) {
        const int64_t doc_start = spans[s].start;
        const int64_t doc_end = spans[s].start + spans[s].length - 1;
        if (tok_start >= doc_start && tok_end <= doc_end) {
          const int64_t offset = static_cast<int64_t>(query.size()) + 2;
          feature.start_position = tok_start - doc_start + offset;
          feature.end_position = tok_end - doc_start + offset;
        }
      }
      features.push_back(std::move(feature));
    }
  }
  return features;
}

}  // namespace qsim::tasks
