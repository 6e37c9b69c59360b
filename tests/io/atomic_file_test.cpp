// write_file_atomically: the whole new file or the old one under the final name.

#include "qsim/io/atomic_file.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "qsim/error.hpp"
#include "support/expect_error.hpp"
#include "support/scratch_dir.hpp"

namespace qsim::io {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(AtomicFileTest, ReplacesTheFileAndLeavesNoScratch) {
  test::ScratchDir dir("atomic_file");
  const std::string path = dir.file("results.json");
  write_file_atomically(path, "old");
  const std::string bytes("new\0with a NUL", 14);
  write_file_atomically(path, bytes);
  EXPECT_EQ(read_all(path), bytes);
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  write_file_atomically(path, "");
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
}

TEST(AtomicFileTest, AFailedWriteNamesThePathAndKeepsTheOldFile) {
  test::ScratchDir dir("atomic_file_fail");
  QSIM_EXPECT_THROW_MSG(write_file_atomically(dir.file("no/such/dir/x.json"), "x"), IoError, {"no/such/dir/x.json"});
  // The final name is a directory: the rename fails after the bytes are written.
  const std::string blocked = dir.file("blocked");
  std::filesystem::create_directories(blocked + "/inside");
  QSIM_EXPECT_THROW_MSG(write_file_atomically(blocked, "x"), IoError, {"blocked", "rename"});
  EXPECT_TRUE(std::filesystem::is_directory(blocked + "/inside"));
  EXPECT_FALSE(std::filesystem::exists(blocked + ".partial"));
}

}  // namespace
}  // namespace qsim::io
