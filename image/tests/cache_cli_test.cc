// `cairn-image cache` end to end on a private cache directory: info, prune under a size bound
// with an entry locked by a "running build" (this test holds the flock a build holds), clean,
// dry runs, and clear errors for bad arguments.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>

#include "image/tests/image_test_util.h"

namespace cairn::image::testing {
namespace {
namespace fs = std::filesystem;

class CacheCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-image-cache-cli-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    tool_ = (build_dir() / "bin/cairn-image").string();
    // A current tree listing one cached .deb, a base tar made before .meta files existed, an
    // entry of an old format, a .deb nothing lists, and an arm64 sysroot (not cairn-image's).
    write("rootfs/bookworm-amd64-tree-1111.tar", 2 << 20);
    write_text("rootfs/bookworm-amd64-tree-1111.meta",
               "format = cairn-rootfs-v2\nkind = rootfs-tree\nrecipe = test\n"
               "debs = bookworm-amd64\ndeb = bash_5.2_amd64.deb\n");
    write("rootfs/bookworm-amd64-2222.tar", 3 << 20);
    write("rootfs/bookworm-amd64-3333.tar", 1 << 20);
    write_text("rootfs/bookworm-amd64-3333.meta", "format = cairn-rootfs-v1\nkind = rootfs\n");
    write("debs/bookworm-amd64/bash_5.2_amd64.deb", 1 << 20);
    write("debs/bookworm-amd64/linux-image-old_1_amd64.deb", 1 << 20);
    write("sysroot/bookworm-arm64-x/lib.so", 1 << 20);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& rel, size_t bytes) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << std::string(bytes, 'x');  // allocated
  }
  void write_text(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  bool exists(const std::string& rel) { return fs::exists(dir_ / rel); }
  Result cache(std::vector<std::string> args) {
    args.insert(args.begin(), {tool_, "cache"});
    return run_tool(args);
  }

  fs::path dir_;
  std::string tool_;
};

TEST_F(CacheCli, InfoListsEntriesAndLimits) {
  auto r = cache({"info", "--cache", dir_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("cache " + dir_.string() + ": "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("limits: 8.0 GiB, unused for 30 days"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rootfs-tree  current"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rootfs/bookworm-amd64-2222.tar  no .meta"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("obsolete"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("debs/bookworm-amd64/  2 .debs, 1 (1.0 MiB) listed by a cached package set"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("sysroot  arm64 sysroots"), std::string::npos) << r.out;
  // Limits from the environment.
  r = run_tool({"env", "CAIRN_IMAGE_CACHE=" + dir_.string(), "CAIRN_IMAGE_CACHE_MAX_SIZE=1G",
                "CAIRN_IMAGE_CACHE_MAX_AGE=0", tool_, "cache", "info"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("limits: 1.0 GiB, no age limit"), std::string::npos) << r.out;
}

TEST_F(CacheCli, PruneKeepsWhatARunningBuildHolds) {
  // What stage_rootfs does on a hit: a shared flock on the tar for the rest of the build.
  int fd = open((dir_ / "rootfs/bookworm-amd64-tree-1111.tar").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_SH), 0);
  auto r = cache({"prune", "--cache", dir_.string(), "--max-size", "1M"});
  close(fd);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("evicted rootfs/bookworm-amd64-3333.tar (1.0 MiB): obsolete: format "
                       "cairn-rootfs-v1 (cairn-image reads cairn-rootfs-v2)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("kept rootfs/bookworm-amd64-tree-1111.tar: in use by a running build"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(exists("rootfs/bookworm-amd64-tree-1111.tar"));
  EXPECT_TRUE(exists("rootfs/bookworm-amd64-tree-1111.meta"));
  EXPECT_TRUE(exists("debs/bookworm-amd64/bash_5.2_amd64.deb"));  // the kept tree lists it
  EXPECT_FALSE(exists("rootfs/bookworm-amd64-2222.tar"));
  EXPECT_FALSE(exists("rootfs/bookworm-amd64-3333.tar"));
  EXPECT_FALSE(exists("rootfs/bookworm-amd64-3333.meta"));
  EXPECT_FALSE(exists("debs/bookworm-amd64/linux-image-old_1_amd64.deb"));
  EXPECT_TRUE(exists("sysroot/bookworm-arm64-x/lib.so"));
  // Unlocked now: the tree goes, then the .deb only it listed.
  r = cache({"prune", "--cache", dir_.string(), "--max-size", "4K"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(exists("rootfs/bookworm-amd64-tree-1111.tar"));
  EXPECT_FALSE(exists("debs/bookworm-amd64/bash_5.2_amd64.deb"));
}

TEST_F(CacheCli, AgeBoundUsesLastUse) {
  // Last use = mtime (a build touches an entry on every hit): make the legacy tar 40 days old.
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(24 * 40);
  fs::last_write_time(dir_ / "rootfs/bookworm-amd64-2222.tar", old);
  auto r = cache({"prune", "--cache", dir_.string(), "--max-age", "30", "--max-size", "0"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("evicted rootfs/bookworm-amd64-2222.tar (3.0 MiB): unused for 40 days"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(exists("rootfs/bookworm-amd64-tree-1111.tar"));
}

TEST_F(CacheCli, CleanAndDryRun) {
  auto r = cache({"clean", "--cache", dir_.string(), "--dry-run"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("would evict rootfs/bookworm-amd64-tree-1111.tar"), std::string::npos);
  EXPECT_TRUE(exists("rootfs/bookworm-amd64-tree-1111.tar"));
  r = cache({"clean", "--cache", dir_.string()});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_FALSE(exists("rootfs/bookworm-amd64-tree-1111.tar"));
  EXPECT_FALSE(exists("rootfs/bookworm-amd64-tree-1111.meta"));
  EXPECT_FALSE(exists("debs/bookworm-amd64/bash_5.2_amd64.deb"));
  EXPECT_TRUE(exists("sysroot/bookworm-arm64-x/lib.so"));
  r = cache({"info", "--cache", dir_.string()});
  EXPECT_NE(r.out.find(": 0 B in 0 entries"), std::string::npos) << r.out;
}

TEST_F(CacheCli, BadArgumentsAreClearErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  std::vector<Case> cases = {
      {{}, "cairn-image cache: which action? (info, prune, clean)"},
      {{"frobnicate"}, "cairn-image cache: unknown action 'frobnicate' (info, prune, clean)"},
      {{"prune", "--max-size", "lots"},
       "cairn-image cache: --max-size 'lots': expected a size like 8G, 500M or 0 (no limit)"},
      {{"prune", "--max-size", "8X"},
       "cairn-image cache: --max-size '8X': unknown size suffix 'X' (K, M, G, T)"},
      {{"prune", "--max-age", "3w"},
       "cairn-image cache: --max-age '3w': expected a number of days like 30, 30d or 0 (no "
       "limit)"},
      {{"prune", "--max-age"}, "cairn-image cache: --max-age needs a number of days"},
      {{"info", "--max-size", "1G"}, "cairn-image cache: 'info' does not take '--max-size'"},
      {{"clean", "--max-age", "1"}, "cairn-image cache: 'clean' does not take '--max-age'"},
      {{"prune", "extra"}, "cairn-image cache: 'prune' does not take 'extra'"},
  };
  for (const auto& c : cases) {
    auto r = cache(c.args);
    EXPECT_EQ(r.status, 2) << c.error;
    EXPECT_EQ(r.err.rfind(c.error, 0), 0u) << r.err;
    EXPECT_NE(r.err.find("usage: cairn-image cache info"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(exists("rootfs/bookworm-amd64-2222.tar"));  // nothing touched
  auto r = run_tool(
      {"env", "CAIRN_IMAGE_CACHE_MAX_AGE=soon", tool_, "cache", "prune", "--cache", dir_.string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("CAIRN_IMAGE_CACHE_MAX_AGE='soon': expected a number of days"),
            std::string::npos)
      << r.err;
  // A build refuses a bad bound before it starts (not after an image was made).
  r = run_tool({"env", "CAIRN_IMAGE_CACHE_MAX_SIZE=-1", tool_, "build",
                (source_dir() / "recipes/qemu-x86_64.toml").string(), "--cache", dir_.string(),
                "--out", (dir_ / "out").string()});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("cairn-image build: CAIRN_IMAGE_CACHE_MAX_SIZE='-1': expected a size"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(exists("out"));
  r = cache({"prune", "--cache", (dir_ / "missing").string()});
  EXPECT_EQ(r.status, 0) << r.err;
  r = cache({"info", "--cache", (dir_ / "rootfs/bookworm-amd64-2222.tar").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is not a directory"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cairn::image::testing
