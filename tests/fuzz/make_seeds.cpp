// fuzz_make_seeds <dir>: writes the hand-assembled seeds that no shared fixture
// provides: small zip and legacy checkpoints (every storage type, views, a
// parameter), every hostile pickle of tests/io/malicious_pickles.hpp in both
// layouts, and a small safetensors file of every dtype. scripts/fuzz.sh adds the
// real fixtures of ../shared next to them.

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "io/checkpoint_builder.hpp"
#include "io/malicious_pickles.hpp"
#include "qsim/io/safetensors.hpp"

namespace {

namespace fs = std::filesystem;
using qsim::test::TensorSpec;

const std::vector<TensorSpec> kSpecs = {
    {"weight", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1}},
    {"position_ids", "LongStorage", "1", 4, 0, {1, 4}, {0, 1}},
    {"tail", "FloatStorage", "0", 6, 4, {2}, {1}},
    {"mask", "BoolStorage", "2", 3, 0, {3}, {1}},
    {"half", "HalfStorage", "3", 2, 0, {2}, {1}},
};

std::vector<std::pair<std::string, std::string>> storages() {
  return {{"0", qsim::test::storage_bytes(std::vector<float>{0.5f, -1.f, 2.f, 3.25f, -4.f, 5.f})},
          {"1", qsim::test::storage_bytes(std::vector<int64_t>{0, 1, 2, 3})},
          {"2", std::string("\x01\x00\x01", 3)},
          {"3", std::string("\x00\x3c\x00\xc0", 4)}};
}

void write_checkpoints(const fs::path& dir) {
  fs::create_directories(dir / "pickle_zip");
  fs::create_directories(dir / "pickle_legacy");
  const auto records = storages();
  const std::map<std::string, std::string> by_key(records.begin(), records.end());
  qsim::test::write_zip_checkpoint((dir / "pickle_zip/state_dict.bin").string(),
                                   qsim::test::state_dict_pickle(kSpecs), by_key);
  qsim::test::write_file((dir / "pickle_legacy/state_dict.bin").string(),
                         qsim::test::legacy_checkpoint_bytes(qsim::test::state_dict_pickle(kSpecs, true), records,
                                                             {6, 4, 3, 2}));
  for (const auto& c : qsim::test::malicious_pickles()) {
    if (c.pickle.size() > 4096) continue;  // the bombs: too large to be useful seeds
    qsim::test::write_zip_checkpoint((dir / "pickle_zip" / (c.name + ".bin")).string(), c.pickle, {});
    qsim::test::write_file((dir / "pickle_legacy" / (c.name + ".bin")).string(),
                           qsim::test::legacy_checkpoint_bytes(c.pickle, {}, {}));
  }
}

void write_safetensors(const fs::path& dir) {
  fs::create_directories(dir / "safetensors");
  qsim::io::TensorList tensors;
  const at::ScalarType types[] = {at::kFloat, at::kHalf, at::kBFloat16, at::kDouble, at::kLong,
                                  at::kInt,   at::kShort, at::kChar,    at::kByte,   at::kBool};
  for (const auto type : types) {
    tensors.emplace_back(std::string("t_") + c10::toString(type), at::ones({2, 3}).to(type));
  }
  tensors.emplace_back("scalar", at::scalar_tensor(1.5));
  tensors.emplace_back("empty", at::zeros({0, 4}));
  qsim::io::save_safetensors((dir / "safetensors/every_dtype.safetensors").string(), tensors, {{"format", "pt"}});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <seed dir>\n", argv[0]);
    return 2;
  }
  write_checkpoints(argv[1]);
  write_safetensors(argv[1]);
  return 0;
}
