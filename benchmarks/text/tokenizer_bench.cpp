// BERT tokenizer throughput on the SST-2 train sentences (one thread):
//   BM_CopySentences   copying the sentence bytes (the floor)
//   BM_BasicTokenize   clean + split + lower + accent strip + punctuation split
//   BM_TokenizeIds     basic + WordPiece to ids (allocation-free path)
//   BM_Encode          full BertInput (tokens, ids, type ids, mask) padded to 128
// Bytes/s counts the UTF-8 input bytes; items/s counts sentences.
// Data: $QSIM_DATA_DIR (default ../shared/data next to the checkout).
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "qsim/tasks/glue_reader.hpp"
#include "qsim/text/bert_tokenizer.hpp"

namespace {

std::string data_dir() {
  const char* env = std::getenv("QSIM_DATA_DIR");
  return (env != nullptr && *env != '\0') ? env : QSIM_BENCH_DEFAULT_DATA_DIR;
}

struct Corpus {
  std::vector<std::string> sentences;
  int64_t bytes = 0;
};

const Corpus& sst2_train() {
  static const Corpus corpus = [] {
    Corpus c;
    for (auto& example : qsim::tasks::read_glue(qsim::tasks::GlueTask::sst2, qsim::tasks::GlueSplit::train,
                                                data_dir() + "/glue")) {
      c.bytes += static_cast<int64_t>(example.text_a.size());
      c.sentences.push_back(std::move(example.text_a));
    }
    return c;
  }();
  return corpus;
}

const qsim::text::BertTokenizer& tokenizer() {
  static const auto t = qsim::text::BertTokenizer::from_file(data_dir() + "/vocab/bert-base-uncased-vocab.txt");
  return t;
}

void set_counters(benchmark::State& state, const Corpus& corpus) {
  state.SetBytesProcessed(state.iterations() * corpus.bytes);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(corpus.sentences.size()));
}

void BM_CopySentences(benchmark::State& state) {
  const Corpus& corpus = sst2_train();
  std::string buffer;
  for (auto _ : state) {
    for (const auto& s : corpus.sentences) {
      buffer.assign(s);
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  set_counters(state, corpus);
}

void BM_BasicTokenize(benchmark::State& state) {
  const Corpus& corpus = sst2_train();
  const qsim::text::BasicTokenizer basic;
  qsim::text::TokenBuffer buffer;
  for (auto _ : state) {
    for (const auto& s : corpus.sentences) {
      buffer.clear();
      basic.tokenize(s, buffer);
      benchmark::DoNotOptimize(buffer.size());
    }
  }
  set_counters(state, corpus);
}

void BM_TokenizeIds(benchmark::State& state) {
  const Corpus& corpus = sst2_train();
  const auto& t = tokenizer();
  qsim::text::TokenBuffer scratch;
  std::vector<int64_t> ids;
  for (auto _ : state) {
    for (const auto& s : corpus.sentences) {
      ids.clear();
      t.tokenize_ids(s, ids, scratch);
      benchmark::DoNotOptimize(ids.data());
    }
  }
  set_counters(state, corpus);
}

void BM_Encode(benchmark::State& state) {
  const Corpus& corpus = sst2_train();
  const auto& t = tokenizer();
  for (auto _ : state) {
    for (const auto& s : corpus.sentences) {
      qsim::text::BertInput input = t.encode(s, 128);
      benchmark::DoNotOptimize(input.input_ids.data());
    }
  }
  set_counters(state, corpus);
}

BENCHMARK(BM_CopySentences)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BasicTokenize)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TokenizeIds)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

}  // namespace
