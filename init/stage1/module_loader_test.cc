#include "init/stage1/module_loader.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace cairn::init::stage1 {
namespace {

TEST(ModuleList, PathsInOrderWithoutCommentsBlanksOrTrailingSpace) {
  EXPECT_EQ(parse_module_list("# header\nkernel/a.ko\n\n  \nkernel/b-c.ko \r\n#x\nkernel/d.ko"),
            (std::vector<std::string>{"kernel/a.ko", "kernel/b-c.ko", "kernel/d.ko"}));
  EXPECT_TRUE(parse_module_list("").empty());
  EXPECT_TRUE(parse_module_list("# only a comment\n\n").empty());
}

TEST(ModuleList, NamesAsTheKernelSpellsThem) {
  EXPECT_EQ(module_name_of("kernel/drivers/md/dm-verity.ko"), "dm_verity");
  EXPECT_EQ(module_name_of("kernel/fs/erofs/erofs.ko"), "erofs");
  EXPECT_EQ(module_name_of("crc32c-intel.ko"), "crc32c_intel");
  EXPECT_EQ(module_name_of("erofs"), "erofs");  // a file system type names its module
}

// A LoadFn whose calls block until the test releases them one by one.
class GatedLoad {
 public:
  int operator()(const std::string& path) {
    std::unique_lock<std::mutex> lock(mutex_);
    called_.push_back(path);
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_ >= called_.size(); });
    return path.find("bad") != std::string::npos ? ENOEXEC : 0;
  }
  void release_one() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++released_;
    changed_.notify_all();
  }
  void release_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = 1000;
    changed_.notify_all();
  }
  // Waits until N calls have started.
  void wait_called(size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return called_.size() >= n; });
  }
  std::vector<std::string> called() {
    std::lock_guard<std::mutex> lock(mutex_);
    return called_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> called_;
  size_t released_ = 0;
};

TEST(ModuleLoader, LoadsInListOrderAndReportsFailures) {
  GatedLoad gate;
  gate.release_all();
  ModuleLoader loader("/lib/modules/v/", {"k/a.ko", "k/bad.ko", "k/c.ko"},
                      [&](const std::string& p) { return gate(p); });
  loader.start();
  std::vector<std::string> warnings;
  EXPECT_EQ(loader.finish(&warnings), 2);
  EXPECT_EQ(gate.called(),
            (std::vector<std::string>{"/lib/modules/v/k/a.ko", "/lib/modules/v/k/bad.ko",
                                      "/lib/modules/v/k/c.ko"}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "finit_module k/bad.ko: Exec format error");
}

TEST(ModuleLoader, WaitForReturnsOnceThatModuleAndThoseBeforeItWereTried) {
  GatedLoad gate;
  ModuleLoader loader("/m/", {"k/dm-mod.ko", "k/dm-verity.ko", "k/ext4.ko"},
                      [&](const std::string& p) { return gate(p); });
  loader.start();
  auto verity = std::async(std::launch::async, [&] { loader.wait_for("dm_verity"); });
  gate.wait_called(1);
  gate.release_one();  // dm-mod done
  gate.wait_called(2);
  // dm-verity is still loading: the waiter must still wait (no timing: the load is gated).
  EXPECT_EQ(verity.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  gate.release_one();  // dm-verity done
  verity.get();
  gate.wait_called(3);  // ext4 started but gated: finish() waits for it
  auto finished = std::async(std::launch::async, [&] {
    std::vector<std::string> w;
    return loader.finish(&w);
  });
  gate.release_one();
  EXPECT_EQ(finished.get(), 3);
}

TEST(ModuleLoader, WaitForAModuleNotInTheListReturnsAtOnce) {
  GatedLoad gate;
  ModuleLoader loader("/m/", {"k/a.ko"}, [&](const std::string& p) { return gate(p); });
  loader.wait_for("a");  // not started: nothing to wait for
  loader.start();
  loader.wait_for("erofs");  // built in: nothing to wait for, though a.ko is still gated
  gate.release_all();
  std::vector<std::string> warnings;
  EXPECT_EQ(loader.finish(&warnings), 1);
  EXPECT_TRUE(warnings.empty());
}

TEST(ModuleLoader, FinishWithoutStartLoadsEverything) {
  int calls = 0;
  ModuleLoader loader("/m/", {"a.ko", "b.ko"}, [&](const std::string&) { return ++calls, 0; });
  std::vector<std::string> warnings;
  EXPECT_EQ(loader.finish(&warnings), 2);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace cairn::init::stage1
