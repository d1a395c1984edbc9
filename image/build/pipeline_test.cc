// The pipeline's all-or-nothing rule: a failed stage names itself, and neither a partial
// output nor the work/staging directories are left; an earlier good output stays intact.
#include "image/build/pipeline.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace cairn::image {
namespace {
namespace fs = std::filesystem;

class Pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn-pipeline-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    options_.out_dir = dir_ / "out";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> entries() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
  BuildOptions options_;
};

Stage writer(const char* name, const std::string& content) {
  return {name, [content](BuildContext& ctx) {
            std::ofstream(ctx.staging / "image.img") << content;
            std::ofstream(ctx.staging / "manifest.json")
                << "{\n  \"format\": \"cairn-image-manifest/1\",\n}\n";
            std::ofstream(ctx.work / "scratch") << "x";
          }};
}

TEST_F(Pipeline, SuccessPublishesOutputAndCleansUp) {
  EXPECT_EQ(run_build(options_, {writer("one", "v1")}), 0);
  EXPECT_EQ(entries(), std::vector<std::string>{"out"});
  std::ifstream in(dir_ / "out/image.img");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "v1");
}

TEST_F(Pipeline, FailureLeavesNothingAndKeepsThePreviousOutput) {
  ASSERT_EQ(run_build(options_, {writer("one", "v1")}), 0);
  testing::internal::CaptureStderr();
  int rc =
      run_build(options_, {writer("write", "v2"),
                           {"explode", [](BuildContext&) { throw std::runtime_error("boom"); }}});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("stage 'explode' failed: boom"), std::string::npos) << err;
  EXPECT_NE(err.find("[2/2] explode"), std::string::npos) << err;
  EXPECT_EQ(entries(), std::vector<std::string>{"out"});
  std::ifstream in(dir_ / "out/image.img");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "v1");
}

// --work-dir: the scratch lives there while the build runs (locked), is gone after success and
// failure; a dead build's work directory there is removed, a locked or --keep-work one is not.
TEST_F(Pipeline, WorkDirElsewhereIsLockedAndCleanedUp) {
  options_.work_parent = dir_ / "tmp";
  fs::create_directories(dir_ / "tmp/cairn-image-x.work-1");  // a SIGKILLed build's
  fs::create_directories(dir_ / "tmp/cairn-image-y.work-2");  // a running build's
  fs::create_directories(dir_ / "tmp/cairn-image-z.work-3");  // kept for debugging
  fs::create_directories(dir_ / "tmp/unrelated");
  std::ofstream(dir_ / "tmp/cairn-image-z.work-3/KEPT") << "";
  int running = open((dir_ / "tmp/cairn-image-y.work-2").c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(running, 0);
  ASSERT_EQ(flock(running, LOCK_SH), 0);
  fs::path seen;
  bool locked = false;
  Stage probe{"probe", [&](BuildContext& ctx) {
                seen = ctx.work;
                int fd = open(ctx.work.c_str(), O_RDONLY | O_DIRECTORY);
                locked = flock(fd, LOCK_EX | LOCK_NB) != 0;  // the build holds it
                close(fd);
                std::ofstream(ctx.work / "scratch") << "x";
              }};
  EXPECT_EQ(run_build(options_, {probe}), 0);
  close(running);
  EXPECT_EQ(seen.parent_path(), dir_ / "tmp");
  EXPECT_EQ(seen.filename().string().rfind("cairn-image-out.work-", 0), 0u) << seen;
  EXPECT_TRUE(locked);
  EXPECT_FALSE(fs::exists(seen));
  EXPECT_FALSE(fs::exists(dir_ / "tmp/cairn-image-x.work-1"));
  EXPECT_TRUE(fs::exists(dir_ / "tmp/cairn-image-y.work-2"));
  EXPECT_TRUE(fs::exists(dir_ / "tmp/cairn-image-z.work-3"));
  EXPECT_TRUE(fs::exists(dir_ / "tmp/unrelated"));
  EXPECT_EQ(entries(), (std::vector<std::string>{"out", "tmp"}));
  testing::internal::CaptureStderr();
  EXPECT_EQ(
      run_build(options_,
                {probe, {"explode", [](BuildContext&) { throw std::runtime_error("boom"); }}}),
      1);
  testing::internal::GetCapturedStderr();
  EXPECT_FALSE(fs::exists(seen));
}

// --out is replaced as a whole, so a directory that is not an earlier output (no cairn-image
// manifest) is refused before any stage runs, and everything in it stays; an empty one is used.
TEST_F(Pipeline, RefusesToReplaceADirectoryThatIsNotAnImageOutput) {
  fs::create_directories(dir_ / "out/photos");
  std::ofstream(dir_ / "out/notes.txt") << "keep me";
  std::ofstream(dir_ / "out/manifest.json") << "{\"format\": \"something-else/1\"}";
  bool ran = false;
  Stage probe{"probe", [&](BuildContext&) { ran = true; }};
  testing::internal::CaptureStderr();
  int rc = run_build(options_, {probe});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_FALSE(ran);
  EXPECT_NE(err.find("--out " + (dir_ / "out").string() + ": it holds files but no cairn-image"),
            std::string::npos)
      << err;
  EXPECT_TRUE(fs::exists(dir_ / "out/photos"));
  EXPECT_TRUE(fs::exists(dir_ / "out/notes.txt"));
  EXPECT_EQ(entries(), std::vector<std::string>{"out"});  // no work or staging left behind

  fs::remove_all(dir_ / "out");
  std::ofstream(dir_ / "out") << "a file";
  testing::internal::CaptureStderr();
  EXPECT_EQ(run_build(options_, {probe}), 1);
  err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("it exists and is not a directory"), std::string::npos) << err;
  EXPECT_FALSE(ran);

  fs::remove(dir_ / "out");
  fs::create_directories(dir_ / "out");  // empty: fine
  EXPECT_EQ(run_build(options_, {writer("one", "v1")}), 0);
  EXPECT_EQ(run_build(options_, {writer("two", "v2")}), 0);  // its own output: replaced
  std::ifstream in(dir_ / "out/image.img");
  std::string s;
  in >> s;
  EXPECT_EQ(s, "v2");
}

TEST_F(Pipeline, FailureWithoutPreviousOutputLeavesNoDirectory) {
  testing::internal::CaptureStderr();
  int rc = run_build(options_, {{"validate", stage_validate}});
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("stage 'validate' failed"), std::string::npos) << err;
  EXPECT_TRUE(entries().empty());
}

// Pruning "/var/log/*" empties /var/log, nothing above it (a glob with GLOB_PERIOD also
// yields "/var/log/..": removing that once emptied all of /var and /usr/share in every image).
TEST_F(Pipeline, PruneRemovesMatchesOnly) {
  fs::path root = dir_ / "root";
  for (const char* f : {"var/log/apt/history.log", "var/log/.hidden", "var/lib/dpkg/status",
                        "usr/share/doc/bash/copyright", "usr/share/zoneinfo/UTC",
                        "usr/share/perl/5.36/x.pm", "etc/apt/sources.list.d/.keep"}) {
    fs::create_directories((root / f).parent_path());
    std::ofstream(root / f) << "x";
  }
  prune_paths(root, {"/var/log/*", "/usr/share/doc/*", "/usr/share/perl",
                     "/etc/apt/sources.list.d/*", "/does/not/exist/*"});
  EXPECT_TRUE(fs::is_empty(root / "var/log"));
  EXPECT_TRUE(fs::is_empty(root / "usr/share/doc"));
  EXPECT_TRUE(fs::is_empty(root / "etc/apt/sources.list.d"));
  EXPECT_FALSE(fs::exists(root / "usr/share/perl"));
  EXPECT_TRUE(fs::exists(root / "var/lib/dpkg/status"));
  EXPECT_TRUE(fs::exists(root / "usr/share/zoneinfo/UTC"));
}

}  // namespace
}  // namespace cairn::image
