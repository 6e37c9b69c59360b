#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/tasks/squad_predictions.hpp"
#include "qsim/tasks/squad_reader.hpp"
#include "support/expect_error.hpp"

namespace qsim::tasks {
namespace {

text::BertTokenizer tiny_tokenizer() {
  return text::BertTokenizer(text::Vocab(
      {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "on", "mat", ".", "where", "?"}));
}

SquadExample example_with_context(const std::string& context) {
  const std::string json = R"({"version": "1.1", "data": [{"paragraphs": [{"context": ")" + context +
                           R"(", "qas": [{"id": "q", "question": "Where?", "answers": []}]}]}]})";
  return parse_squad(json, "p.json").examples.at(0);
}

struct Scenario {
  std::vector<SquadExample> examples;
  std::vector<SquadFeature> features;
  std::vector<SquadResult> results;
};

// Two windows over "The Cat sat on the mat." (see squad_features_test); every logit
// starts at -10 so that only the ones a test raises compete.
Scenario two_windows() {
  Scenario s;
  s.examples = {example_with_context("The Cat sat on the mat.")};
  SquadFeatureOptions options;
  options.max_seq_length = 10;
  options.doc_stride = 2;
  options.max_query_length = 2;
  s.features = convert_squad_examples(s.examples, tiny_tokenizer(), options);
  for (const auto& f : s.features) {
    s.results.push_back({f.unique_id, std::vector<float>(10, -10.0f), std::vector<float>(10, -10.0f)});
  }
  return s;
}

TEST(SquadPredictionsTest, BestSpanMapsBackToOriginalText) {
  Scenario s = two_windows();
  s.results[1].start_logits[7] = 5.0f;  // "mat"
  s.results[1].end_logits[8] = 4.0f;    // "."
  const auto predictions = squad_predictions(s.examples, s.features, s.results, tiny_tokenizer().vocab());
  ASSERT_EQ(predictions.size(), 1u);
  EXPECT_EQ(predictions[0].qas_id, "q");
  EXPECT_EQ(predictions[0].text, "mat.");
  EXPECT_DOUBLE_EQ(predictions[0].nbest[0].start_logit, 5.0);
  double total = 0.0;
  for (const auto& entry : predictions[0].nbest) total += entry.probability;
  EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(SquadPredictionsTest, RecoversOriginalCase) {
  Scenario s = two_windows();
  s.results[0].start_logits[5] = 3.0f;  // "cat" -> "Cat"
  s.results[0].end_logits[5] = 3.0f;
  EXPECT_EQ(squad_predictions(s.examples, s.features, s.results, tiny_tokenizer().vocab())[0].text, "Cat");
}

TEST(SquadPredictionsTest, StartOutsideMaxContextIsSkipped) {
  Scenario s = two_windows();
  // Piece 4 ("the") has its max context in window 1 (position 6), not in window 0
  // (position 8), so the higher-scoring window-0 span is not a candidate.
  s.results[0].start_logits[8] = 9.0f;
  s.results[0].end_logits[8] = 9.0f;
  s.results[1].start_logits[6] = 1.0f;
  s.results[1].end_logits[6] = 1.0f;
  EXPECT_EQ(squad_predictions(s.examples, s.features, s.results, tiny_tokenizer().vocab())[0].text, "the");
}

TEST(SquadPredictionsTest, SpansLongerThanMaxAnswerLengthAreSkipped) {
  Scenario s = two_windows();
  s.results[0].start_logits[6] = 9.0f;  // "sat"
  s.results[0].end_logits[8] = 9.0f;    // "the": 3 pieces
  s.results[0].end_logits[7] = 1.0f;    // "on": 2 pieces
  SquadPredictionOptions options;
  options.max_answer_length = 2;
  EXPECT_EQ(squad_predictions(s.examples, s.features, s.results, tiny_tokenizer().vocab(), options)[0].text,
            "sat on");
  options.max_answer_length = 3;
  EXPECT_EQ(squad_predictions(s.examples, s.features, s.results, tiny_tokenizer().vocab(), options)[0].text,
            "sat on the");
}

TEST(SquadPredictionsTest, NoCandidateGivesEmpty) {
  Scenario s = two_windows();
  SquadPredictionOptions options;
  options.n_best_size = 1;  // the top start and end are both [CLS] (index 0 on ties)
  EXPECT_EQ(squad_predictions(s.examples, s.features, s.results, tiny_tokenizer().vocab(), options)[0].text,
            "empty");
}

TEST(SquadPredictionsTest, MissingResultIsAnError) {
  Scenario s = two_windows();
  s.results.pop_back();
  QSIM_EXPECT_THROW_MSG(squad_predictions(s.examples, s.features, s.results, tiny_tokenizer().vocab()),
                        ValueError, {"no result for feature 1000000001"});
}

TEST(GetFinalTextTest, ProjectsOntoOriginalText) {
  EXPECT_EQ(get_final_text("steve smith", "Steve Smith's", true), "Steve Smith");
  EXPECT_EQ(get_final_text("cafe", "Caf\u00e9!", true), "Caf\u00e9");
  EXPECT_EQ(get_final_text("zzz", "Steve", true), "Steve");  // no alignment: original
}

}  // namespace
}  // namespace qsim::tasks
