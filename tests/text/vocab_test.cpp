#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "qsim/text/vocab.hpp"
#include "support/expect_error.hpp"
#include "support/paths.hpp"

namespace qsim::text {
namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST(VocabTest, IdsAreLineNumbersAndLinesAreStripped) {
  const Vocab vocab = Vocab::from_file(write_temp("vocab_strip.txt", "[PAD]\r\n[UNK]\n  hello \nworld"));
  EXPECT_EQ(vocab.size(), 4);
  EXPECT_EQ(vocab.find("[UNK]"), 1);
  EXPECT_EQ(vocab.unk_id(), 1);
  EXPECT_EQ(vocab.find("hello"), 2);
  EXPECT_EQ(vocab.find("world"), 3);
  EXPECT_EQ(vocab.token(2), "hello");
  EXPECT_EQ(vocab.find("nope"), -1);
}

TEST(VocabTest, RepeatedTokenKeepsLastId) {
  const Vocab vocab({"[UNK]", "a", "b", "a"});
  EXPECT_EQ(vocab.find("a"), 3);
}

TEST(VocabTest, ContinuationPiecesAreFoundByTheirRemainder) {
  const Vocab vocab({"[UNK]", "##ing", "ing"});
  EXPECT_EQ(vocab.find_continuation("ing"), 1);
  EXPECT_EQ(vocab.find("ing"), 2);
  EXPECT_EQ(vocab.find("##ing"), 1);
  EXPECT_EQ(vocab.find_continuation("xyz"), -1);
}

TEST(VocabTest, CopiesShareTables) {
  std::optional<Vocab> copy;
  {
    const Vocab vocab({"[UNK]", "short", "a-much-longer-token-than-sso"});
    copy = vocab;
  }
  EXPECT_EQ(copy->find("short"), 1);
  EXPECT_EQ(copy->find("a-much-longer-token-than-sso"), 2);
}

TEST(VocabTest, RealVocabHasBertSpecialTokens) {
  const Vocab vocab = Vocab::from_file(test::data_dir() + "/vocab/bert-base-uncased-vocab.txt");
  EXPECT_EQ(vocab.token(static_cast<int64_t>(vocab.unk_id())), "[UNK]");
  EXPECT_GT(vocab.size(), vocab.id("[MASK]"));
}

TEST(VocabTest, RejectsMissingFile) {
  QSIM_EXPECT_THROW_MSG(Vocab::from_file("/nonexistent/vocab.txt"), IoError,
                        {"/nonexistent/vocab.txt", "cannot open"});
}

TEST(VocabTest, RejectsVocabWithoutUnk) {
  const std::string path = write_temp("vocab_no_unk.txt", "[PAD]\nhello\n");
  QSIM_EXPECT_THROW_MSG(Vocab::from_file(path), ConfigError, {"vocab_no_unk.txt", "[UNK]"});
}

TEST(VocabTest, IdNamesTheVocabAndTheToken) {
  const Vocab vocab({"[UNK]"}, "my_vocab.txt");
  QSIM_EXPECT_THROW_MSG(vocab.id("[CLS]"), ConfigError, {"my_vocab.txt", "'[CLS]'"});
}

}  // namespace
}  // namespace qsim::text
