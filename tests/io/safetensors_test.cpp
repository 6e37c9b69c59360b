#include "qsim/io/safetensors.hpp"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "support/expect_error.hpp"
#include "support/paths.hpp"
#include "support/scratch_dir.hpp"

namespace qsim::io {
namespace {

namespace fs = std::filesystem;

// Writes a safetensors file by hand: the length prefix (the header's, unless
// `declared_length` overrides it), the header text, then `data`.
void write_raw(const std::string& path, const std::string& header, const std::string& data,
               std::uint64_t declared_length) {
  std::ofstream out(path, std::ios::binary);
  char length[8];
  std::memcpy(length, &declared_length, sizeof(length));
  out.write(length, sizeof(length));
  out << header << data;
}

void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  write_raw(path, header, data, header.size());
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class SafetensorsTest : public ::testing::Test {
 protected:
  std::string file(const std::string& name) const { return dir_.file(name); }
  test::ScratchDir dir_;
};

at::Tensor sample(at::ScalarType type, at::IntArrayRef shape) {
  if (type == at::kBool) return at::rand(shape) > 0.5;
  if (at::isFloatingType(type)) return at::randn(shape).to(type);
  return at::randint(-100, 100, shape).to(type == at::kByte ? at::kShort : type).abs().to(type);
}

TEST_F(SafetensorsTest, RoundTripsEveryDtype) {
  const at::ScalarType types[] = {at::kFloat, at::kHalf,  at::kBFloat16, at::kDouble, at::kLong,
                                  at::kInt,   at::kShort, at::kChar,     at::kByte,   at::kBool};
  TensorList tensors;
  for (const auto type : types) {
    tensors.emplace_back(std::string("t_") + c10::toString(type), sample(type, {3, 5}));
  }
  save_safetensors(file("all.safetensors"), tensors);
  const SafetensorsFile loaded = load_safetensors(file("all.safetensors"));
  ASSERT_EQ(loaded.tensors.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const at::Tensor& back = loaded.at(name);
    EXPECT_EQ(back.scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(back.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(at::equal(back, tensor)) << name;
  }
  EXPECT_TRUE(loaded.metadata.empty());
}

TEST_F(SafetensorsTest, RoundTripsScalarsEmptyTensorsAndMetadata) {
  const TensorList tensors = {{"scalar", at::scalar_tensor(2.5)},
                              {"empty", at::empty({0, 4}, at::kFloat)},
                              {"empty_scalar_shape", at::empty({3, 0}, at::kLong)},
                              {"value", at::arange(6, at::kInt)}};
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "é ok"}};
  save_safetensors(file("mixed.safetensors"), tensors, metadata);
  const SafetensorsFile loaded = load_safetensors(file("mixed.safetensors"));
  EXPECT_EQ(loaded.metadata, metadata);
  EXPECT_EQ(loaded.at("scalar").dim(), 0);
  EXPECT_EQ(loaded.at("scalar").item<double>(), 2.5);
  EXPECT_EQ(loaded.at("empty").sizes(), at::IntArrayRef({0, 4}));
  EXPECT_EQ(loaded.at("empty_scalar_shape").scalar_type(), at::kLong);
  EXPECT_TRUE(at::equal(loaded.at("value"), tensors[3].second));
}

TEST_F(SafetensorsTest, WritesNonContiguousTensorsContiguously) {
  const at::Tensor base = at::arange(12, at::kFloat).reshape({3, 4});
  save_safetensors(file("t.safetensors"), {{"t", base.t()}, {"s", base.index({at::indexing::Slice(), 1})}});
  const SafetensorsFile loaded = load_safetensors(file("t.safetensors"));
  EXPECT_TRUE(at::equal(loaded.at("t"), base.t()));
  EXPECT_TRUE(loaded.at("t").is_contiguous());
  EXPECT_TRUE(at::equal(loaded.at("s"), base.index({at::indexing::Slice(), 1})));
}

TEST_F(SafetensorsTest, LaysOutByElementSizeThenNameWithPaddedHeader) {
  save_safetensors(file("order.safetensors"),
                   {{"b_byte", at::ones({3}, at::kByte)},
                    {"z_double", at::ones({1}, at::kDouble)},
                    {"a_float", at::ones({1}, at::kFloat)},
                    {"a_double", at::ones({2}, at::kDouble)}});
  const std::string bytes = read_bytes(file("order.safetensors"));
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ(header_size % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header_size + 16 + 8 + 4 + 3);
  const std::string header = bytes.substr(8, header_size);
  EXPECT_LT(header.find("a_double"), header.find("z_double"));
  EXPECT_LT(header.find("z_double"), header.find("a_float"));
  EXPECT_LT(header.find("a_float"), header.find("b_byte"));
  const SafetensorsFile loaded = load_safetensors(file("order.safetensors"));
  std::vector<std::string> names;
  for (const auto& item : loaded.tensors) names.push_back(item.first);
  EXPECT_EQ(names, (std::vector<std::string>{"a_double", "z_double", "a_float", "b_byte"}));
}

TEST_F(SafetensorsTest, LoadedTensorsAreWritableWithoutChangingTheFile) {
  save_safetensors(file("w.safetensors"), {{"w", at::zeros({4}, at::kFloat)}});
  const std::string before = read_bytes(file("w.safetensors"));
  {
    at::Tensor w = load_safetensors_tensor(file("w.safetensors"), "w");
    w.fill_(7.0);
    EXPECT_EQ(w.sum().item<float>(), 28.0f);
  }
  EXPECT_EQ(read_bytes(file("w.safetensors")), before);
}

TEST_F(SafetensorsTest, CopiesMisalignedTensors) {
  // One U8 byte first puts the F32 tensor at data offset 1: legal, just misaligned.
  const std::string header =
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  const float values[2] = {1.5f, -2.0f};
  std::string data(1, '\x07');
  data.append(reinterpret_cast<const char*>(values), sizeof(values));
  write_raw(file("m.safetensors"), header, data);
  const SafetensorsFile loaded = load_safetensors(file("m.safetensors"));
  EXPECT_EQ(loaded.at("a").item<uint8_t>(), 7);
  EXPECT_EQ(loaded.at("b")[0].item<float>(), 1.5f);
  EXPECT_EQ(loaded.at("b")[1].item<float>(), -2.0f);
}

TEST_F(SafetensorsTest, NamesTheTensorThatIsMissing) {
  save_safetensors(file("x.safetensors"), {{"x", at::ones({1})}});
  QSIM_EXPECT_THROW_MSG(load_safetensors_tensor(file("x.safetensors"), "y"), IoError,
                        {"x.safetensors", "'y'", "no such tensor"});
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("x.safetensors")).at("y"), IoError,
                        {"x.safetensors", "'y'"});
}

TEST_F(SafetensorsTest, RejectsBadTensorsOnSave) {
  QSIM_EXPECT_THROW_MSG(save_safetensors(file("c.safetensors"), {{"c", at::ones({2}, at::kComplexFloat)}}),
                        ValueError, {"c.safetensors", "'c'", "dtype"});
  QSIM_EXPECT_THROW_MSG(save_safetensors(file("d.safetensors"), {{"d", at::ones({1})}, {"d", at::ones({1})}}),
                        ValueError, {"'d'", "duplicate"});
  QSIM_EXPECT_THROW_MSG(save_safetensors(file("m.safetensors"), {{"__metadata__", at::ones({1})}}),
                        ValueError, {"__metadata__"});
  EXPECT_FALSE(fs::exists(file("c.safetensors")));
  EXPECT_FALSE(fs::exists(file("c.safetensors.partial")));
  QSIM_EXPECT_THROW_MSG(save_safetensors(file("no/such/dir.safetensors"), {{"x", at::ones({1})}}),
                        IoError, {"no/such/dir.safetensors"});
}

// --- malformed files -------------------------------------------------------------------

const std::string kOneF32 = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

TEST_F(SafetensorsTest, RejectsMissingFile) {
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("absent.safetensors")), IoError,
                        {"absent.safetensors", "cannot open"});
}

TEST_F(SafetensorsTest, RejectsFileShorterThanTheLengthPrefix) {
  std::ofstream(file("short.safetensors"), std::ios::binary) << "abc";
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("short.safetensors")), IoError,
                        {"short.safetensors", "truncated"});
  std::ofstream(file("empty.safetensors"), std::ios::binary).flush();
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("empty.safetensors")), IoError,
                        {"empty.safetensors", "truncated"});
}

TEST_F(SafetensorsTest, RejectsHeaderLengthBeyondFile) {
  write_raw(file("h.safetensors"), kOneF32, std::string(8, '\0'), kOneF32.size() + 100);
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("h.safetensors")), IoError,
                        {"h.safetensors", "truncated", "header length"});
}

TEST_F(SafetensorsTest, RejectsHugeHeaderLength) {
  write_raw(file("huge.safetensors"), kOneF32, std::string(8, '\0'), std::uint64_t{1} << 62);
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("huge.safetensors")), IoError,
                        {"huge.safetensors", "limit"});
}

TEST_F(SafetensorsTest, RejectsTruncatedData) {
  write_raw(file("t.safetensors"), kOneF32, std::string(5, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("t.safetensors")), IoError,
                        {"t.safetensors", "'t'", "out of range"});
}

TEST_F(SafetensorsTest, RejectsInvalidJson) {
  write_raw(file("j.safetensors"), R"({"t":{"dtype":"F32",)", "");
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("j.safetensors")), IoError,
                        {"j.safetensors", "invalid JSON"});
}

// Found by fuzz_safetensors' sibling: nlohmann reports a number too large for a
// double as out_of_range, not parse_error.
TEST_F(SafetensorsTest, RejectsNumberTooLargeForADouble) {
  write_raw(file("big.safetensors"), R"({"t":{"dtype":"F32","shape":[1e999],"data_offsets":[0,4]}})", "abcd");
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("big.safetensors")), IoError, {"big.safetensors", "invalid JSON"});
}

TEST_F(SafetensorsTest, RejectsNonUtf8Header) {
  write_raw(file("u.safetensors"),
            "{\"t\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            std::string(8, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("u.safetensors")), IoError,
                        {"u.safetensors", "invalid JSON"});
}

TEST_F(SafetensorsTest, RejectsHeaderThatIsNotAnObject) {
  write_raw(file("a.safetensors"), "[1, 2]", "");
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("a.safetensors")), IoError,
                        {"a.safetensors", "object", "array"});
  write_raw(file("e.safetensors"), R"({"t": 3})", "");
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("e.safetensors")), IoError,
                        {"e.safetensors", "'t'", "object"});
  write_raw(file("k.safetensors"), R"({"t": {"dtype":"F32","shape":[0]}})", "");
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("k.safetensors")), IoError,
                        {"k.safetensors", "'t'", "data_offsets"});
}

TEST_F(SafetensorsTest, RejectsUnknownDtype) {
  write_raw(file("d.safetensors"), R"({"t":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})",
            std::string(8, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("d.safetensors")), IoError,
                        {"d.safetensors", "'t'", "C64"});
}

TEST_F(SafetensorsTest, RejectsShapeOffsetSizeMismatch) {
  write_raw(file("s.safetensors"), R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
            std::string(16, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("s.safetensors")), IoError,
                        {"s.safetensors", "'t'", "needs 12 bytes"});
}

TEST_F(SafetensorsTest, RejectsOverflowingShape) {
  write_raw(file("o.safetensors"),
            R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
            std::string(8, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("o.safetensors")), IoError,
                        {"o.safetensors", "'t'", "too large"});
}

TEST_F(SafetensorsTest, RejectsOutOfRangeOffsets) {
  write_raw(file("r.safetensors"), R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
            std::string(8, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("r.safetensors")), IoError,
                        {"r.safetensors", "'t'", "out of range"});
  write_raw(file("b.safetensors"), R"({"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})",
            std::string(8, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("b.safetensors")), IoError,
                        {"b.safetensors", "'t'", "out of range"});
  write_raw(file("n.safetensors"), R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})",
            std::string(8, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("n.safetensors")), IoError,
                        {"n.safetensors", "'t'", "data_offsets"});
}

TEST_F(SafetensorsTest, RejectsOverlappingOffsets) {
  write_raw(file("v.safetensors"),
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            std::string(12, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("v.safetensors")), IoError,
                        {"v.safetensors", "'b'", "overlap", "'a'"});
}

TEST_F(SafetensorsTest, RejectsNegativeDims) {
  write_raw(file("g.safetensors"), R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
            std::string(8, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("g.safetensors")), IoError,
                        {"g.safetensors", "'t'", "non-negative"});
}

TEST_F(SafetensorsTest, RejectsDuplicateNames) {
  write_raw(file("dup.safetensors"),
            R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
            R"("t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            std::string(8, '\0'));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("dup.safetensors")), IoError,
                        {"dup.safetensors", "'t'", "duplicate"});
}

TEST_F(SafetensorsTest, RejectsNonStringMetadata) {
  write_raw(file("meta.safetensors"), R"({"__metadata__":{"format":1}})", "");
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("meta.safetensors")), IoError,
                        {"meta.safetensors", "'format'", "string"});
}

TEST_F(SafetensorsTest, RejectsBoolBytesOtherThanZeroOrOne) {
  write_raw(file("bool.safetensors"), R"({"t":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})",
            std::string("\x01\x05", 2));
  QSIM_EXPECT_THROW_MSG(load_safetensors(file("bool.safetensors")), IoError,
                        {"bool.safetensors", "'t'", "BOOL"});
}

// --- golden fixtures -------------------------------------------------------------------

TEST_F(SafetensorsTest, ReadsEveryGoldenFileAndRewritesItIdentically) {
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(test::golden_dir())) {
    if (entry.path().extension() != ".safetensors") continue;
    ++files;
    const std::string path = entry.path().string();
    SCOPED_TRACE(path);
    const SafetensorsFile loaded = load_safetensors(path);
    EXPECT_FALSE(loaded.tensors.empty());
    for (const auto& [name, tensor] : loaded.tensors) EXPECT_TRUE(tensor.is_contiguous()) << name;
    // The golden files were written in the same layout as ours, so re-saving them
    // reproduces the data bytes exactly.
    const std::string copy = file("copy.safetensors");
    save_safetensors(copy, loaded.tensors, loaded.metadata);
    const std::string original = read_bytes(path);
    const std::string rewritten = read_bytes(copy);
    std::uint64_t original_header = 0;
    std::uint64_t rewritten_header = 0;
    std::memcpy(&original_header, original.data(), 8);
    std::memcpy(&rewritten_header, rewritten.data(), 8);
    EXPECT_EQ(original.substr(8 + original_header), rewritten.substr(8 + rewritten_header));
    const SafetensorsFile again = load_safetensors(copy);
    ASSERT_EQ(again.tensors.size(), loaded.tensors.size());
    for (std::size_t i = 0; i < loaded.tensors.size(); ++i) {
      EXPECT_EQ(again.tensors[i].first, loaded.tensors[i].first);
      EXPECT_TRUE(at::equal(again.tensors[i].second, loaded.tensors[i].second));
    }
  }
  EXPECT_GT(files, 0) << "no .safetensors under " << test::golden_dir();
}

}  // namespace
}  // namespace qsim::io
