#include "init/stage1/module_loader.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <initializer_list>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace cairn::init::stage1 {
namespace {

std::vector<std::string> paths_of(const std::vector<ModuleEntry>& entries) {
  std::vector<std::string> paths;
  for (const auto& e : entries) paths.push_back(e.path);
  return paths;
}

TEST(ModuleList, PathsInOrderWithoutCommentsBlanksOrTrailingSpace) {
  EXPECT_EQ(
      paths_of(parse_module_list("# header\nkernel/a.ko\n\n  \nkernel/b-c.ko \r\n#x\nkernel/d.ko")),
      (std::vector<std::string>{"kernel/a.ko", "kernel/b-c.ko", "kernel/d.ko"}));
  EXPECT_TRUE(parse_module_list("").empty());
  EXPECT_TRUE(parse_module_list("# only a comment\n\n").empty());
}

TEST(ModuleList, LinesWithoutNeedsNeedEverythingBefore) {
  auto entries = parse_module_list("kernel/a.ko\nkernel/b.ko\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(entries[0].needs_all_before);
  EXPECT_TRUE(entries[1].needs_all_before);
  EXPECT_TRUE(entries[1].needs.empty());
}

TEST(ModuleList, NeedsAfterTheColon) {
  auto entries = parse_module_list(
      "kernel/dm-mod.ko:\nkernel/dm-verity.ko: kernel/dm-mod.ko \tkernel/rs.ko \r\n : x\n");
  ASSERT_EQ(entries.size(), 2u);  // ": x" names no module
  EXPECT_EQ(entries[0].path, "kernel/dm-mod.ko");
  EXPECT_FALSE(entries[0].needs_all_before);
  EXPECT_TRUE(entries[0].needs.empty());
  EXPECT_EQ(entries[1].path, "kernel/dm-verity.ko");
  EXPECT_EQ(entries[1].needs, (std::vector<std::string>{"kernel/dm-mod.ko", "kernel/rs.ko"}));
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
  ModuleLoader loader("/lib/modules/v/", in_list_order({"k/a.ko", "k/bad.ko", "k/c.ko"}),
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
  ModuleLoader loader("/m/", in_list_order({"k/dm-mod.ko", "k/dm-verity.ko", "k/ext4.ko"}),
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
  ModuleLoader loader("/m/", in_list_order({"k/a.ko"}),
                      [&](const std::string& p) { return gate(p); });
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
  ModuleLoader loader("/m/", in_list_order({"a.ko", "b.ko"}),
                      [&](const std::string&) { return ++calls, 0; });
  std::vector<std::string> warnings;
  EXPECT_EQ(loader.finish(&warnings), 2);
  EXPECT_EQ(calls, 2);
}

std::vector<ModuleEntry> entries(
    std::initializer_list<std::pair<const char*, std::vector<std::string>>> list) {
  std::vector<ModuleEntry> out;
  for (const auto& [path, needs] : list) out.push_back({path, needs, false});
  return out;
}

// A LoadFn whose call for each path blocks until the test releases that path.
class PathGate {
 public:
  int operator()(const std::string& path) {
    std::unique_lock<std::mutex> lock(mutex_);
    called_.insert(path);
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_.count(path) > 0; });
    return path.find("bad") != std::string::npos ? ENOEXEC : 0;
  }
  void release(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    released_.insert(path);
    changed_.notify_all();
  }
  // Waits until the calls started are exactly EXPECTED (fails the wait if more started).
  void wait_called(const std::set<std::string>& expected) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return called_.size() >= expected.size(); });
    EXPECT_EQ(called_, expected);
  }
  std::set<std::string> called() {
    std::lock_guard<std::mutex> lock(mutex_);
    return called_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> called_;
  std::set<std::string> released_;
};

TEST(ModuleLoader, IndependentModulesLoadSideBySide) {
  PathGate gate;
  ModuleLoader loader(
      "/m/",
      entries({{"k/dm-mod.ko", {}},
               {"k/dm-verity.ko", {"k/dm-mod.ko"}},
               {"k/jbd2.ko", {}},
               {"k/ext4.ko", {"k/jbd2.ko"}}}),
      [&](const std::string& p) { return gate(p); }, 2);
  loader.start();
  // Both threads are busy at once: dm-mod, and jbd2, which needs nothing (dm-verity needs
  // dm-mod, still loading).
  gate.wait_called({"/m/k/dm-mod.ko", "/m/k/jbd2.ko"});
  auto ext4 = std::async(std::launch::async, [&] { loader.wait_for("ext4"); });
  gate.release("/m/k/dm-mod.ko");  // a thread takes dm-verity
  gate.wait_called({"/m/k/dm-mod.ko", "/m/k/jbd2.ko", "/m/k/dm-verity.ko"});
  EXPECT_EQ(ext4.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  gate.release("/m/k/jbd2.ko");  // the other thread takes ext4
  gate.wait_called({"/m/k/dm-mod.ko", "/m/k/jbd2.ko", "/m/k/dm-verity.ko", "/m/k/ext4.ko"});
  EXPECT_EQ(ext4.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  gate.release("/m/k/ext4.ko");
  ext4.get();  // while dm-verity still loads
  gate.release("/m/k/dm-verity.ko");
  std::vector<std::string> warnings;
  EXPECT_EQ(loader.finish(&warnings), 4);
  EXPECT_TRUE(warnings.empty());
}

TEST(ModuleLoader, AModuleWaitsForWhatItNeedsEvenIfItFailed) {
  PathGate gate;
  ModuleLoader loader(
      "/m/", entries({{"k/bad.ko", {}}, {"k/user.ko", {"k/bad.ko"}}}),
      [&](const std::string& p) { return gate(p); }, 2);
  loader.start();
  gate.wait_called({"/m/k/bad.ko"});
  auto user = std::async(std::launch::async, [&] { loader.wait_for("user"); });
  // The second thread may take nothing while bad.ko loads.
  EXPECT_EQ(user.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  EXPECT_EQ(gate.called().size(), 1u);
  gate.release("/m/k/bad.ko");
  gate.wait_called({"/m/k/bad.ko", "/m/k/user.ko"});
  gate.release("/m/k/user.ko");
  user.get();
  std::vector<std::string> warnings;
  EXPECT_EQ(loader.finish(&warnings), 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "finit_module k/bad.ko: Exec format error");
}

TEST(ModuleLoader, NeedsOutsideTheListOrLaterInItAreIgnored) {
  std::vector<std::string> order;
  std::mutex mutex;
  ModuleLoader loader(
      "/m/", entries({{"k/a.ko", {"k/b.ko", "k/builtin.ko"}}, {"k/b.ko", {"k/a.ko"}}}),
      [&](const std::string& p) {
        std::lock_guard<std::mutex> lock(mutex);
        order.push_back(p);
        return 0;
      },
      2);
  loader.start();
  std::vector<std::string> warnings;
  EXPECT_EQ(loader.finish(&warnings), 2);
  EXPECT_EQ(order, (std::vector<std::string>{"/m/k/a.ko", "/m/k/b.ko"}));
}

TEST(ModuleLoader, ALineWithoutNeedsWaitsForEveryLineBeforeIt) {
  PathGate gate;
  std::vector<ModuleEntry> list = entries({{"k/a.ko", {}}, {"k/b.ko", {}}});
  list.push_back({"k/c.ko", {}, true});   // "k/c.ko" without ':'
  list.push_back({"k/d.ko", {}, false});  // "k/d.ko:" needs nothing
  ModuleLoader loader(
      "/m/", list, [&](const std::string& p) { return gate(p); }, 2);
  loader.start();
  gate.wait_called({"/m/k/a.ko", "/m/k/b.ko"});
  gate.release("/m/k/b.ko");
  // c.ko needs a.ko too (still loading): the free thread takes d.ko.
  gate.wait_called({"/m/k/a.ko", "/m/k/b.ko", "/m/k/d.ko"});
  gate.release("/m/k/d.ko");
  gate.release("/m/k/a.ko");
  gate.wait_called({"/m/k/a.ko", "/m/k/b.ko", "/m/k/c.ko", "/m/k/d.ko"});
  gate.release("/m/k/c.ko");
  std::vector<std::string> warnings;
  EXPECT_EQ(loader.finish(&warnings), 4);
}

}  // namespace
}  // namespace cairn::init::stage1
