// The restricted unpickler against hostile pickles (tests/io/malicious_pickles.hpp),
// in both checkpoint layouts: every one is an IoError naming the file and the
// opcode, and nothing is executed, imported or leaked.

#include <string>

#include <gtest/gtest.h>

#include "io/malicious_pickles.hpp"
#include "io/pickle_reader.hpp"
#include "qsim/error.hpp"
#include "qsim/io/pytorch_bin.hpp"
#include "support/expect_error.hpp"
#include "support/scratch_dir.hpp"

namespace qsim::io {
namespace {

class MaliciousPickleTest : public ::testing::TestWithParam<test::MaliciousPickle> {
 protected:
  test::ScratchDir dir_;
};

TEST_P(MaliciousPickleTest, ZipCheckpointIsRefusedAtTheOpcode) {
  const test::MaliciousPickle& c = GetParam();
  const std::string path = dir_.file(c.name + ".bin");
  test::write_zip_checkpoint(path, c.pickle, {});
  const std::string opcode = "(" + c.opcode + ")";
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(path), IoError, {path.c_str(), opcode.c_str(), c.message.c_str()});
}

TEST_P(MaliciousPickleTest, LegacyCheckpointIsRefusedAtTheOpcode) {
  const test::MaliciousPickle& c = GetParam();
  const std::string path = dir_.file(c.name + "_legacy.bin");
  test::write_file(path, test::legacy_checkpoint_bytes(c.pickle, {}, {}));
  const std::string opcode = "(" + c.opcode + ")";
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(path), IoError, {path.c_str(), opcode.c_str(), c.message.c_str()});
}

INSTANTIATE_TEST_SUITE_P(Corpus, MaliciousPickleTest, ::testing::ValuesIn(test::malicious_pickles()),
                         [](const auto& info) { return info.param.name; });

// A dict that contains itself (through the memo) is a reference cycle: the reader
// must free it when it goes, or every such file would leak.
TEST(PickleCycleTest, SelfContainingDictIsFreedWithTheReader) {
  const std::string pickle = test::PickleBuilder().proto().op('}').raw("q\x01").str("a").raw("h\x01").op('s').stop().bytes();
  std::weak_ptr<detail::Value> root;
  {
    detail::PickleReader reader("cycle.pkl", reinterpret_cast<const std::uint8_t*>(pickle.data()), pickle.size());
    const detail::ValuePtr value = reader.load(0);
    ASSERT_EQ(value->kind, detail::ValueKind::dict);
    ASSERT_EQ(value->entries.size(), 1u);
    EXPECT_EQ(value->entries.front().second, value);
    root = value;
  }
  EXPECT_TRUE(root.expired());
}

TEST(PickleCycleTest, SelfContainingDictIsNotAStateDict) {
  test::ScratchDir dir;
  const std::string path = dir.file("cycle.bin");
  test::write_zip_checkpoint(path, test::PickleBuilder().proto().op('}').raw("q\x01").str("a").raw("h\x01").op('s').stop().bytes(), {});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(path), IoError, {path.c_str(), "'a'", "expected a tensor"});
}

}  // namespace
}  // namespace qsim::io
