#include "common/read_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cairn {
namespace {

TEST(ReadFile, ReadsMissingAndRejects) {
  char tmpl[] = "/tmp/cairn-read-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string text, error;
  std::ofstream(dir + "/f") << "hello";
  EXPECT_EQ(read_small_file(dir + "/f", 100, text, error), ReadFileStatus::Ok);
  EXPECT_EQ(text, "hello");
  EXPECT_EQ(read_small_file(dir + "/f", 4, text, error), ReadFileStatus::Error);
  EXPECT_EQ(error, "larger than 4 bytes");
  EXPECT_EQ(read_small_file(dir + "/none", 100, text, error), ReadFileStatus::Missing);
  EXPECT_EQ(read_small_file(dir + "/f/sub", 100, text, error), ReadFileStatus::Missing);
  EXPECT_EQ(read_small_file(dir, 100, text, error), ReadFileStatus::Error);
  EXPECT_EQ(error, "is a directory");
  // A FIFO with no writer must not block the reader.
  ASSERT_EQ(mkfifo((dir + "/fifo").c_str(), 0600), 0);
  EXPECT_EQ(read_small_file(dir + "/fifo", 100, text, error), ReadFileStatus::Error);
  EXPECT_EQ(error, "not a regular file");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn
