#pragma once

// Tiny task files for the end-to-end tests of the example binaries: GLUE TSVs in
// each task's real column layout, a SQuAD v1.1 JSON, and random BERT checkpoints
// over a vocabulary of the words those files use.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "qsim/models/bert/bert_checkpoint.hpp"

namespace qsim::test {
namespace fs = std::filesystem;

inline const std::vector<std::string> kWords = {"the", "a", "movie", "film", "good", "bad", "great", "dull", "is",
                                         "was", "not", "very", "what", "who", "where", "did", "he", "she",
                                         "it", "fun", "plot", "acting", "and", "but", "of", "cat", "dog",
                                         "sat", "on", "mat", "paris", "france", "capital", "in", "city", "river"};

inline std::string sentence(int i, int words) {
  std::string out;
  for (int w = 0; w < words; ++w) out += (w ? " " : "") + kWords[static_cast<size_t>((i * 7 + w * 5 + i * w) % kWords.size())];
  return out;
}

inline void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

inline std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Tiny files in each task's real column layout (the GLUE download's TSVs).
inline void write_glue(const fs::path& glue, int rows) {
  const char* mnli_labels[] = {"contradiction", "entailment", "neutral"};
  const char* nli[] = {"entailment", "not_entailment"};
  for (const char* split : {"train", "dev"}) {
    std::string cola, sst2 = "sentence\tlabel\n", mrpc = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n",
                      stsb = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n",
                      qqp = "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n",
                      mnli = "index\tpromptID\tpairID\tgenre\ts1bp\ts2bp\ts1p\ts2p\tsentence1\tsentence2\tlabel1\tgold_label\n",
                      qnli = "index\tquestion\tsentence\tlabel\n", rte = "index\tsentence1\tsentence2\tlabel\n";
    std::string mnli_mm = mnli;
    for (int i = 0; i < rows; ++i) {
      const std::string a = sentence(i, 4 + i % 5), b = sentence(i + 3, 3 + i % 4);
      cola += fmt::format("src{}\t{}\t\t{}\n", i, i % 2, a);
      sst2 += fmt::format("{} \t{}\n", a, i % 2);
      mrpc += fmt::format("{}\t{}\t{}\t{}\t{}\n", i % 2, i, i + 100, a, b);
      stsb += fmt::format("{}\tmain\tf\t2012\t{}\tx\ty\t{}\t{}\t{:.1f}\n", i, i, a, b, (i % 6) * 0.8);
      qqp += fmt::format("{}\t{}\t{}\t{}?\t{}?\t{}\n", i, 2 * i, 2 * i + 1, a, b, (i / 2) % 2);
      const std::string row = fmt::format("{}\t{}\t{}\tfiction\t()\t()\t()\t()\t{}\t{}\t{}\t{}\n", i, i, i, a, b,
                                          mnli_labels[i % 3], mnli_labels[i % 3]);
      mnli += row;
      mnli_mm += row;
      qnli += fmt::format("{}\t{}?\t{}\t{}\n", i, a, b, nli[i % 2]);
      rte += fmt::format("{}\t{}\t{}\t{}\n", i, a, b, nli[(i / 3) % 2]);
    }
    const std::string file = std::string(split) + ".tsv";
    write(glue / "CoLA" / file, cola);
    write(glue / "SST-2" / file, sst2);
    write(glue / "MRPC" / file, "\xEF\xBB\xBF" + mrpc);
    write(glue / "STS-B" / file, stsb);
    write(glue / "QQP" / file, qqp);
    write(glue / "QNLI" / file, qnli);
    write(glue / "RTE" / file, rte);
    if (std::string(split) == "train") {
      write(glue / "MNLI" / "train.tsv", mnli);
    } else {
      write(glue / "MNLI" / "dev_matched.tsv", mnli);
      write(glue / "MNLI" / "dev_mismatched.tsv", mnli_mm);
    }
  }
}

inline void write_squad(const fs::path& dir) {
  nlohmann::json data = nlohmann::json::array();
  nlohmann::json paragraphs = nlohmann::json::array();
  for (int p = 0; p < 3; ++p) {
    const std::string context = "the cat sat on the mat in paris and the dog sat in the city of france " + sentence(p, 6);
    nlohmann::json qas = nlohmann::json::array();
    qas.push_back({{"id", fmt::format("q{}a", p)},
                   {"question", "where did the cat sat ?"},
                   {"answers", {{{"text", "the mat"}, {"answer_start", 15}}}}});
    qas.push_back({{"id", fmt::format("q{}b", p)},
                   {"question", "what is the city ?"},
                   {"answers", {{{"text", "paris"}, {"answer_start", 26}}}}});
    paragraphs.push_back({{"context", context}, {"qas", qas}});
  }
  data.push_back({{"title", "tiny"}, {"paragraphs", paragraphs}});
  write(dir / "dev-v1.1.json", nlohmann::json({{"version", "1.1"}, {"data", data}}).dump());
}

// A random BERT of `hidden` width over the tiny vocabulary, saved in the Hugging Face layout.
inline void write_checkpoint(const fs::path& dir, const char* architecture, int64_t num_labels, uint64_t seed,
                             int64_t hidden = 16) {
  nlohmann::json json = {{"vocab_size", 5 + static_cast<int64_t>(kWords.size()) + 2},
                         {"hidden_size", hidden},
                         {"num_hidden_layers", 1},
                         {"num_attention_heads", 2},
                         {"intermediate_size", 2 * hidden},
                         {"max_position_embeddings", 384},
                         // Wider than HF's 0.02, so a random model's outputs differ between examples.
                         {"initializer_range", 0.5},
                         {"num_labels", num_labels},
                         {"architectures", {architecture}}};
  if (num_labels == 1) json["problem_type"] = "regression";
  torch::manual_seed(seed);
  models::bert::BertForTask model(models::bert::BertConfig::from_json(json, "tiny"));
  models::bert::save_pretrained(*model, dir.string());
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const auto& w : kWords) vocab += w + "\n";
  vocab += "?\n.\n";
  write(dir / "vocab.txt", vocab);
}

}  // namespace qsim::test
