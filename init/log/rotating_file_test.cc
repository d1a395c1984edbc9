#include "init/log/rotating_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cairn::init {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char t[] = "/tmp/cairn-logs-XXXXXX";
    path = mkdtemp(t);
    fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  ~TempDir() {
    close(fd);
    fs::remove_all(path);
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path + "/" + name);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string path;
  int fd;
};

TEST(RotatingFile, RotatesBySizeAndKeepsMaxFiles) {
  TempDir dir;
  {
    RotatingFile f(dir.fd, "svc", 20, 3);
    for (int i = 0; i < 10; ++i) {
      f.add_line("line " + std::to_string(i) + "\n");  // 7 bytes: 2 lines per file
      f.flush();
    }
    EXPECT_EQ(f.rotations(), 4u);
    EXPECT_EQ(f.dropped(), 0u);
  }
  EXPECT_EQ(dir.read("svc.log"), "line 8\nline 9\n");
  EXPECT_EQ(dir.read("svc.log.1"), "line 6\nline 7\n");
  EXPECT_EQ(dir.read("svc.log.2"), "line 4\nline 5\n");
  EXPECT_FALSE(fs::exists(dir.path + "/svc.log.3"));
  for (const auto& e : fs::directory_iterator(dir.path)) EXPECT_LE(fs::file_size(e), 20u);
}

TEST(RotatingFile, BatchesRotateInTheMiddle) {
  TempDir dir;
  RotatingFile f(dir.fd, "b", 10, 2);
  f.add_line("12345\n");
  f.add_line("abcde\n");  // would pass 10: the batch is written, then a new file
  f.add_line("xyz\n");
  f.flush();
  EXPECT_EQ(dir.read("b.log.1"), "12345\n");
  EXPECT_EQ(dir.read("b.log"), "abcde\nxyz\n");
}

TEST(RotatingFile, OneFileIsTruncatedAndAppendsAcrossReopen) {
  TempDir dir;
  {
    RotatingFile f(dir.fd, "one", 8, 1);
    f.add_line("aaaa\n");
    f.flush();
  }
  {
    RotatingFile f(dir.fd, "one", 8, 1);  // reopen: the existing size counts
    f.add_line("bb\n");
    f.add_line("cccc\n");
    f.flush();
  }
  EXPECT_EQ(dir.read("one.log"), "cccc\n");
  EXPECT_FALSE(fs::exists(dir.path + "/one.log.1"));
}

TEST(RotatingFile, WriteFailuresAreDroppedAndCounted) {
  TempDir dir;
  ASSERT_EQ(symlink("/dev/full", (dir.path + "/full.log").c_str()), 0);
  RotatingFile f(dir.fd, "full", 1 << 20, 2);
  f.add_line("a\n");
  f.add_line("b\n");
  EXPECT_EQ(f.flush(), 2u);
  f.add_line("c\n");
  EXPECT_EQ(f.flush(), 1u);
  EXPECT_EQ(f.dropped(), 3u);
  // A directory that cannot hold the file: every line dropped, nothing blocks.
  RotatingFile g(-1, "nowhere", 100, 2);
  g.add_line("x\n");
  EXPECT_EQ(g.dropped(), 1u);
}

}  // namespace
}  // namespace cairn::init
