// Robustness of the parsers: thousands of randomly damaged copies of small valid files
// (bytes flipped, inserted, deleted, the file cut short) must each either load or
// raise qsim::IoError; any other exception, a crash or a sanitizer report is a bug.
// A fixed seed keeps the cases reproducible.

#include <functional>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "io/checkpoint_builder.hpp"
#include "support/scratch_dir.hpp"
#include "qsim/error.hpp"
#include "qsim/io/pytorch_bin.hpp"
#include "qsim/io/safetensors.hpp"

namespace qsim::io {
namespace {

constexpr int kMutantsPerFormat = 500;

std::string mutate(std::string bytes, std::mt19937& rng) {
  const int edits = std::uniform_int_distribution<int>(1, 4)(rng);
  for (int e = 0; e < edits && !bytes.empty(); ++e) {
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, bytes.size() - 1)(rng);
    const char value = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
      case 0: bytes[at] = value; break;
      case 1: bytes[at] = static_cast<char>(bytes[at] ^ (1 << (value & 7))); break;
      case 2: bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), value); break;
      case 3: bytes.erase(at, 1); break;
      default: bytes.resize(at); break;
    }
  }
  return bytes;
}

// Counts how the mutants fared; fails the test on anything but success or IoError.
void run_mutants(const std::string& original, const std::function<void(const std::string&)>& load,
                 unsigned seed) {
  test::ScratchDir dir;
  const std::string path = dir.file("mutant");
  std::mt19937 rng(seed);
  int rejected = 0;
  for (int i = 0; i < kMutantsPerFormat; ++i) {
    const std::string bytes = mutate(original, rng);
    test::write_file(path, bytes);
    try {
      load(path);
    } catch (const IoError&) {
      ++rejected;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "mutant " << i << " (seed " << seed << ") threw a non-IoError: " << e.what();
    }
  }
  // Most damage must be detected; if nothing were rejected the mutator would be broken.
  EXPECT_GT(rejected, kMutantsPerFormat / 4);
}

// Reads every element, so that a tensor pointing outside its memory would fault.
void touch(const TensorList& tensors) {
  for (const auto& item : tensors) {
    (void)item.second.to(at::kDouble).sum().item<double>();
  }
}

TEST(MutationTest, SafetensorsReaderOnlyRaisesIoError) {
  test::ScratchDir dir;
  save_safetensors(dir.file("valid.safetensors"),
                   {{"w", at::randn({4, 3})}, {"ids", at::arange(5)}, {"flag", at::ones({2}, at::kBool)},
                    {"h", at::randn({3}).to(at::kHalf)}},
                   {{"format", "pt"}});
  run_mutants(test::read_file(dir.file("valid.safetensors")),
              [](const std::string& path) { touch(load_safetensors(path).tensors); }, 1234u);
}

const std::vector<test::TensorSpec> kSpecs = {
    {"weight", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}},
    {"position_ids", "LongStorage", "1", 4, 0, {1, 4}, {0, 1}},
    {"tail", "FloatStorage", "0", 6, 4, {2}, {1}},
};

TEST(MutationTest, LegacyCheckpointReaderOnlyRaisesIoError) {
  const std::string bytes = test::legacy_checkpoint_bytes(
      test::state_dict_pickle(kSpecs, /*legacy=*/true),
      {{"0", test::storage_bytes(std::vector<float>{1, 2, 3, 4, 5, 6})},
       {"1", test::storage_bytes(std::vector<int64_t>{0, 1, 2, 3})}},
      {6, 4});
  run_mutants(bytes, [](const std::string& path) { touch(load_pytorch_bin(path)); }, 99u);
}

TEST(MutationTest, ZipCheckpointPickleOnlyRaisesIoError) {
  // Damage the pickle before zipping, so that it reaches the unpickler intact.
  const std::string pickle = test::state_dict_pickle(kSpecs);
  const std::map<std::string, std::string> storages = {
      {"0", test::storage_bytes(std::vector<float>{1, 2, 3, 4, 5, 6})},
      {"1", test::storage_bytes(std::vector<int64_t>{0, 1, 2, 3})}};
  test::ScratchDir dir;
  run_mutants(pickle,
              [&](const std::string& path) {
                const std::string zip = path + ".zip";
                test::write_zip_checkpoint(zip, test::read_file(path), storages);
                touch(load_pytorch_bin(zip));
              },
              7u);
}

TEST(MutationTest, ZipArchiveReaderOnlyRaisesIoError) {
  test::ScratchDir dir;
  test::write_zip_checkpoint(dir.file("valid.bin"), test::state_dict_pickle(kSpecs),
                             {{"0", test::storage_bytes(std::vector<float>{1, 2, 3, 4, 5, 6})},
                              {"1", test::storage_bytes(std::vector<int64_t>{0, 1, 2, 3})}});
  run_mutants(test::read_file(dir.file("valid.bin")),
              [](const std::string& path) { touch(load_pytorch_bin(path)); }, 42u);
}

}  // namespace
}  // namespace qsim::io
