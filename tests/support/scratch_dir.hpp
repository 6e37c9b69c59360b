#pragma once

// ScratchDir: a fresh directory under the system temp dir, removed with everything
// in it when the object goes out of scope. Tests write their hand-made (often
// malformed) files, checkpoints and CLI outputs there.

#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace qsim::test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag = "test") {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() /
            ("qsim_" + tag + "_" + std::to_string(seed()) + "_" + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace qsim::test
