#include "qsim/io/pytorch_bin.hpp"

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "io/checkpoint_builder.hpp"
#include "support/scratch_dir.hpp"
#include "qsim/error.hpp"
#include "support/expect_error.hpp"

namespace qsim::io {
namespace {

using test::PickleBuilder;
using test::TensorSpec;

class PytorchBinTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  test::ScratchDir dir_;
};

// weight: float [2, 3] over all of storage "0"; position_ids: int64 [1, 4] with
// stride (0, 1) over storage "1"; tail: float [2] at offset 4 of storage "0";
// mask: bool [3] over storage "2".
const std::vector<TensorSpec> kSpecs = {
    {"weight", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}},
    {"position_ids", "LongStorage", "1", 4, 0, {1, 4}, {0, 1}},
    {"tail", "FloatStorage", "0", 6, 4, {2}, {1}},
    {"mask", "BoolStorage", "2", 3, 0, {3}, {1}},
};
const std::vector<float> kWeight = {0.5f, -1.f, 2.f, 3.25f, -4.f, 5.f};
const std::vector<int64_t> kPositions = {0, 1, 2, 3};
const std::vector<uint8_t> kMask = {1, 0, 1};

std::map<std::string, std::string> storages() {
  return {{"0", test::storage_bytes(kWeight)},
          {"1", test::storage_bytes(kPositions)},
          {"2", test::storage_bytes(kMask)}};
}

void expect_sample_tensors(const TensorList& tensors) {
  ASSERT_EQ(tensors.size(), 4u);
  EXPECT_EQ(tensors[0].first, "weight");
  EXPECT_EQ(tensors[1].first, "position_ids");
  EXPECT_EQ(tensors[2].first, "tail");
  EXPECT_EQ(tensors[3].first, "mask");
  const at::Tensor weight = at::tensor(at::ArrayRef<float>(kWeight)).reshape({2, 3});
  EXPECT_TRUE(at::equal(tensors[0].second, weight));
  EXPECT_TRUE(at::equal(tensors[1].second, at::arange(4, at::kLong).reshape({1, 4})));
  EXPECT_TRUE(at::equal(tensors[2].second, weight.flatten().slice(0, 4, 6)));
  EXPECT_TRUE(at::equal(tensors[3].second, at::tensor({1, 0, 1}).to(at::kBool)));
  for (const auto& [name, tensor] : tensors) EXPECT_TRUE(tensor.is_contiguous()) << name;
}

TEST_F(PytorchBinTest, ReadsZipCheckpoint) {
  test::write_zip_checkpoint(file("model.bin"), test::state_dict_pickle(kSpecs), storages());
  expect_sample_tensors(load_pytorch_bin(file("model.bin")));
}

TEST_F(PytorchBinTest, ReadsLegacyCheckpoint) {
  const std::string bytes = test::legacy_checkpoint_bytes(
      test::state_dict_pickle(kSpecs, /*legacy=*/true),
      {{"0", test::storage_bytes(kWeight)}, {"1", test::storage_bytes(kPositions)},
       {"2", test::storage_bytes(kMask)}},
      {6, 4, 3});
  test::write_file(file("legacy.bin"), bytes);
  expect_sample_tensors(load_pytorch_bin(file("legacy.bin")));
}

TEST_F(PytorchBinTest, ReadsParametersAndEveryStorageType) {
  const std::pair<const char*, at::ScalarType> types[] = {
      {"FloatStorage", at::kFloat}, {"HalfStorage", at::kHalf},   {"BFloat16Storage", at::kBFloat16},
      {"DoubleStorage", at::kDouble}, {"LongStorage", at::kLong}, {"IntStorage", at::kInt},
      {"ShortStorage", at::kShort}, {"CharStorage", at::kChar},   {"ByteStorage", at::kByte}};
  PickleBuilder p;
  p.proto().empty_ordered_dict().op('(');
  std::map<std::string, std::string> records;
  std::vector<at::Tensor> expected;
  for (const auto& [type, dtype] : types) {
    const std::string key = std::to_string(records.size());
    const at::Tensor values = at::arange(-3, 3).to(dtype);
    expected.push_back(values);
    records[key] = std::string(static_cast<const char*>(values.data_ptr()), values.nbytes());
    // Wrapped as an nn.Parameter: _rebuild_parameter(tensor, requires_grad, hooks).
    p.str(type).global("torch._utils", "_rebuild_parameter").op('(');
    p.tensor(type, key, 6, 0, {6}, {1}).op('\x88').empty_ordered_dict().op('t').op('R');
  }
  test::write_zip_checkpoint(file("types.bin"), p.op('u').stop().bytes(), records);
  const TensorList tensors = load_pytorch_bin(file("types.bin"));
  ASSERT_EQ(tensors.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(tensors[i].second.scalar_type(), expected[i].scalar_type()) << tensors[i].first;
    EXPECT_TRUE(at::equal(tensors[i].second, expected[i])) << tensors[i].first;
  }
}

TEST_F(PytorchBinTest, IgnoresOrderedDictMetadataState) {
  // torch.save(model.state_dict()) adds BUILD with {'_metadata': OrderedDict(...)}.
  PickleBuilder p;
  p.proto().empty_ordered_dict().op('(').str("w").tensor("FloatStorage", "0", 1, 0, {}, {}).op('u');
  p.op('}').op('(').str("_metadata").empty_ordered_dict().op('u').op('b').stop();
  test::write_zip_checkpoint(file("meta.bin"), p.bytes(), {{"0", test::storage_bytes(std::vector<float>{7.f})}});
  const TensorList tensors = load_pytorch_bin(file("meta.bin"));
  ASSERT_EQ(tensors.size(), 1u);
  EXPECT_EQ(tensors[0].second.dim(), 0);
  EXPECT_EQ(tensors[0].second.item<float>(), 7.f);
}

// --- bad input -------------------------------------------------------------------------

TEST_F(PytorchBinTest, RejectsForbiddenGlobal) {
  PickleBuilder p;
  p.proto().global("os", "system").str("echo pwned").op('\x85').op('R').stop();
  test::write_zip_checkpoint(file("evil.bin"), p.bytes(), {});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("evil.bin")), IoError,
                        {"evil.bin", "forbidden global 'os.system'"});
}

TEST_F(PytorchBinTest, RejectsForbiddenStackGlobal) {
  PickleBuilder p;
  p.raw("\x80\x04").str("builtins").str("eval").op('\x93').str("1+1").op('\x85').op('R').stop();
  test::write_zip_checkpoint(file("eval.bin"), p.bytes(), {});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("eval.bin")), IoError,
                        {"eval.bin", "forbidden global 'builtins.eval'"});
}

TEST_F(PytorchBinTest, RejectsForbiddenGlobalInLegacyCheckpoint) {
  PickleBuilder p;
  p.proto().global("subprocess", "call").str("ls").op('\x85').op('R').stop();
  test::write_file(file("evil_legacy.bin"), test::legacy_checkpoint_bytes(p.bytes(), {}, {}));
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("evil_legacy.bin")), IoError,
                        {"evil_legacy.bin", "'subprocess.call'"});
}

TEST_F(PytorchBinTest, RejectsMissingStorageRecord) {
  auto records = storages();
  records.erase("1");
  test::write_zip_checkpoint(file("missing.bin"), test::state_dict_pickle(kSpecs), records);
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("missing.bin")), IoError,
                        {"missing.bin", "storage record '1'", "missing"});
}

TEST_F(PytorchBinTest, RejectsMissingLegacyStorage) {
  const std::string bytes = test::legacy_checkpoint_bytes(
      test::state_dict_pickle(kSpecs, true),
      {{"0", test::storage_bytes(kWeight)}, {"2", test::storage_bytes(kMask)}}, {6, 3});
  test::write_file(file("missing_legacy.bin"), bytes);
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("missing_legacy.bin")), IoError,
                        {"missing_legacy.bin", "'position_ids'", "storage record '1'"});
}

TEST_F(PytorchBinTest, RejectsStorageRecordOfWrongSize) {
  auto records = storages();
  records["0"].resize(records["0"].size() - 4);
  test::write_zip_checkpoint(file("short.bin"), test::state_dict_pickle(kSpecs), records);
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("short.bin")), IoError,
                        {"short.bin", "storage record '0'", "need 24 bytes", "holds 20"});
}

TEST_F(PytorchBinTest, RejectsViewPastItsStorage) {
  const std::vector<TensorSpec> specs = {{"big", "FloatStorage", "0", 6, 0, {3, 3}, {3, 1}}};
  test::write_zip_checkpoint(file("view.bin"), test::state_dict_pickle(specs), {{"0", test::storage_bytes(kWeight)}});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("view.bin")), IoError,
                        {"view.bin", "'big'", "reaches past storage '0'"});
  const std::vector<TensorSpec> offset = {{"shifted", "FloatStorage", "0", 6, 5, {2}, {1}}};
  test::write_zip_checkpoint(file("offset.bin"), test::state_dict_pickle(offset), {{"0", test::storage_bytes(kWeight)}});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("offset.bin")), IoError, {"offset.bin", "'shifted'"});
}

TEST_F(PytorchBinTest, RejectsBoolStorageWithOtherBytes) {
  const std::vector<TensorSpec> specs = {{"mask", "BoolStorage", "0", 2, 0, {2}, {1}}};
  test::write_zip_checkpoint(file("bool.bin"), test::state_dict_pickle(specs), {{"0", std::string("\x01\x07", 2)}});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("bool.bin")), IoError, {"bool.bin", "storage record '0'"});
}

TEST_F(PytorchBinTest, RejectsTruncatedArchive) {
  test::write_zip_checkpoint(file("full.bin"), test::state_dict_pickle(kSpecs), storages());
  const std::string bytes = test::read_file(file("full.bin"));
  test::write_file(file("cut.bin"), bytes.substr(0, bytes.size() / 2));
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("cut.bin")), IoError, {"cut.bin", "zip"});
}

TEST_F(PytorchBinTest, RejectsCorruptStorageBytes) {
  test::write_zip_checkpoint(file("full.bin"), test::state_dict_pickle(kSpecs), storages());
  std::string bytes = test::read_file(file("full.bin"));
  const std::string weight = test::storage_bytes(kWeight);
  const std::size_t at = bytes.find(weight);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] ^= 0x40;  // the CRC no longer matches
  test::write_file(file("crc.bin"), bytes);
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("crc.bin")), IoError, {"crc.bin", "archive/data/0"});
}

TEST_F(PytorchBinTest, RejectsTruncatedPickle) {
  const std::string pickle = test::state_dict_pickle(kSpecs);
  test::write_zip_checkpoint(file("pkl.bin"), pickle.substr(0, pickle.size() - 10), storages());
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("pkl.bin")), IoError, {"pkl.bin", "data.pkl"});
}

TEST_F(PytorchBinTest, RejectsTruncatedLegacyStorages) {
  const std::string bytes = test::legacy_checkpoint_bytes(
      test::state_dict_pickle(kSpecs, true),
      {{"0", test::storage_bytes(kWeight)}, {"1", test::storage_bytes(kPositions)},
       {"2", test::storage_bytes(kMask)}},
      {6, 4, 3});
  test::write_file(file("cut_legacy.bin"), bytes.substr(0, bytes.size() - 8));
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("cut_legacy.bin")), IoError,
                        {"cut_legacy.bin", "storage record '2'", "truncated"});
}

TEST_F(PytorchBinTest, RejectsPickleThatIsNotAStateDict) {
  test::write_zip_checkpoint(file("list.bin"), PickleBuilder().proto().op(']').stop().bytes(), {});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("list.bin")), IoError, {"list.bin", "list", "state dict"});
  PickleBuilder p;
  p.proto().empty_ordered_dict().str("epoch").integer(3).op('s').stop();
  test::write_zip_checkpoint(file("int.bin"), p.bytes(), {});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("int.bin")), IoError, {"int.bin", "'epoch'", "int"});
}

TEST_F(PytorchBinTest, RejectsArchiveWithoutPickle) {
  test::write_zip(file("nopkl.bin"), {{"archive/version", "3\n"}});
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("nopkl.bin")), IoError, {"nopkl.bin", "data.pkl"});
}

TEST_F(PytorchBinTest, RejectsFilesThatAreNotCheckpoints) {
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("absent.bin")), IoError, {"absent.bin"});
  test::write_file(file("text.bin"), "hello, world");
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("text.bin")), IoError, {"text.bin", "not a PyTorch checkpoint"});
  test::write_file(file("empty.bin"), "");
  QSIM_EXPECT_THROW_MSG(load_pytorch_bin(file("empty.bin")), IoError, {"empty.bin"});
}

}  // namespace
}  // namespace qsim::io
