// cairn-image end to end on bad input: clear file:line:col errors, a stage named, and never a
// half-written image (nor the work/staging directories) left behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "image/tests/image_test_util.h"

namespace cairn::image::testing {
namespace {
namespace fs = std::filesystem;

class CliFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-image-cli-" + std::to_string(getpid()));
    fs::create_directories(dir_ / "recipes");
    tool_ = (build_dir() / "bin/cairn-image").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write_recipe(const std::string& name, const std::string& text) {
    fs::path f = dir_ / "recipes" / name;
    std::ofstream(f) << text;
    return f;
  }
  std::vector<std::string> leftovers() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.path().filename() != "recipes") names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  // What an earlier build leaves in --out besides its images (only such a directory is
  // replaced by a new build).
  void write_previous_manifest() {
    std::ofstream(dir_ / "out/manifest.json") << "{\n  \"format\": \"cairn-image-manifest/1\"\n}\n";
  }
  fs::path dir_;
  std::string tool_;
};

const char* kBadArch = R"([image]
name = "bad"
version = "1"
arch = "sparc"
board = "uefi"
[packages]
suite = "bookworm"
list = ["bash"]
[kernel]
package = "linux-image-amd64"
[partitions]
boot = "128M"
root = "300M"
data = "64M"
)";

TEST_F(CliFailure, ValidateNamesFileLineColumn) {
  auto f = write_recipe("bad.toml", kBadArch);
  auto r = run_tool({tool_, "validate", f.string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(f.string() + ":4:8: error: image.arch: must be \"x86_64\" or \"arm64\""),
            std::string::npos)
      << r.err;
}

TEST_F(CliFailure, ValidateAcceptsTheShippedRecipes) {
  for (const char* name : {"qemu-x86_64.toml", "qemu-arm64.toml", "rpi4.toml"}) {
    auto r = run_tool({tool_, "validate", (source_dir() / "recipes" / name).string()});
    EXPECT_EQ(r.status, 0) << name << "\n" << r.err;
    EXPECT_NE(r.out.find(": ok ("), std::string::npos) << r.out;
  }
}

TEST_F(CliFailure, BadRecipeBuildLeavesNothing) {
  auto f = write_recipe("bad.toml", kBadArch);
  auto r = run_tool({tool_, "build", f.string(), "--out", (dir_ / "out").string(), "--cache",
                     (dir_ / "cache").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("stage 'validate' failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(":4:8: error: image.arch"), std::string::npos) << r.err;
  auto left = leftovers();
  left.erase(std::remove(left.begin(), left.end(), "cache"), left.end());
  EXPECT_TRUE(left.empty()) << left.front();
}

TEST_F(CliFailure, FailedBuildKeepsThePreviousImage) {
  fs::create_directories(dir_ / "out");
  std::ofstream(dir_ / "out/previous.img") << "the last good image";
  write_previous_manifest();
  // Valid syntax, but a pinned artifact whose hash does not match: fails in 'validate'.
  std::ofstream(dir_ / "blob") << "not what was pinned";
  auto f =
      write_recipe("pinned.toml",
                   std::string(kBadArch).replace(std::string(kBadArch).find("sparc"), 5, "x86_64") +
                       "[artifacts.blob]\npath = \"../blob\"\nsha256 = \"" + std::string(64, '0') +
                       "\"\ndestination = \"/usr/share/blob\"\n");
  auto r = run_tool({tool_, "build", f.string(), "--out", (dir_ / "out").string(), "--cache",
                     (dir_ / "cache").string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(f.string() + ":17:10: error: artifacts.blob.sha256: mismatch"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(read_file(dir_ / "out/previous.img"), "the last good image");
  size_t entries = 0;
  for (auto it = fs::directory_iterator(dir_ / "out"); it != fs::directory_iterator(); ++it)
    ++entries;
  EXPECT_EQ(entries, 2u);  // previous.img and its manifest
  auto left = leftovers();
  left.erase(std::remove(left.begin(), left.end(), "cache"), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"blob", "out"}));
}

TEST_F(CliFailure, UsageErrors) {
  EXPECT_EQ(run_tool({tool_}).status, 2);
  auto r = run_tool({tool_, "frobnicate"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos);
  r = run_tool({tool_, "build", "x.toml", "--formats", "vmdk"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown format 'vmdk'"), std::string::npos) << r.err;
}

// Interrupting a real build (SIGTERM while the rootfs stage runs) removes everything it made.
// Label "slow": it starts a real build (mmdebstrap or the warm cache).
TEST_F(CliFailure, SLOW_InterruptedBuildLeavesNothing) {
  fs::create_directories(dir_ / "out");
  std::ofstream(dir_ / "out/previous.img") << "old";
  write_previous_manifest();
  auto r = run_tool({tool_, "build", (source_dir() / "recipes/qemu-x86_64.toml").string(), "--out",
                     (dir_ / "out").string(), "--bin-dir", (dir_ / "nobin").string()},
                    "[2/9] rootfs");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  EXPECT_EQ(leftovers(), std::vector<std::string>{"out"});
  EXPECT_EQ(read_file(dir_ / "out/previous.img"), "old");
}

}  // namespace
}  // namespace cairn::image::testing
