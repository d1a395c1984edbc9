// Unit tests of the cgroup helper through a fake CgroupFs: exactly what is written where.
#include "init/exec/cgroup.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <map>
#include <set>

namespace cairn::init {
namespace {

class FakeCgroupFs : public CgroupFs {
 public:
  std::map<std::string, std::string> files;
  std::set<std::string> dirs;
  std::vector<std::pair<std::string, std::string>> writes;  // (path, data) in order
  std::map<std::string, int> write_errors;                  // path -> errno
  std::vector<std::pair<pid_t, int>> kills;
  std::vector<std::string> removed;

  int read_file(const std::string& path, std::string& out) noexcept override {
    auto it = files.find(path);
    if (it == files.end()) return ENOENT;
    out = it->second;
    return 0;
  }
  int write_file(const std::string& path, std::string_view data) noexcept override {
    auto error = write_errors.find(path);
    if (error != write_errors.end()) return error->second;
    writes.emplace_back(path, std::string(data));
    return 0;
  }
  int make_dir(const std::string& path) noexcept override {
    return dirs.insert(path).second ? 0 : EEXIST;
  }
  int remove_dir(const std::string& path) noexcept override {
    if (dirs.erase(path) == 0) return ENOENT;
    removed.push_back(path);
    return 0;
  }
  int list_subdirs(const std::string& path, std::vector<std::string>& out) noexcept override {
    out.clear();
    for (const auto& dir : dirs) {
      if (dir.size() > path.size() + 1 && dir.compare(0, path.size(), path) == 0 &&
          dir[path.size()] == '/' && dir.find('/', path.size() + 1) == std::string::npos) {
        out.push_back(dir.substr(path.size() + 1));
      }
    }
    return 0;
  }
  int open_dir(const std::string& path) noexcept override {
    if (!dirs.count(path)) return -ENOENT;
    return ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // a real fd: ServiceCgroup closes it
  }
  int kill_pid(pid_t pid, int signal) noexcept override {
    kills.emplace_back(pid, signal);
    return 0;
  }

  std::vector<std::string> writes_to(const std::string& path) const {
    std::vector<std::string> out;
    for (const auto& [p, data] : writes) {
      if (p == path) out.push_back(data);
    }
    return out;
  }
};

struct Opened {
  FakeCgroupFs fs;
  CgroupTree tree{"/cg", fs};
  ServiceCgroup cgroup;
};

TEST(CgroupControllers, ParsesAndFormats) {
  EXPECT_EQ(parse_cgroup_controllers("cpuset cpu io memory hugetlb pids rdma misc\n"),
            kCgroupCpu | kCgroupIo | kCgroupMemory | kCgroupPids);
  EXPECT_EQ(parse_cgroup_controllers("hugetlb\n"), 0u);
  EXPECT_EQ(parse_cgroup_controllers(""), 0u);
  EXPECT_EQ(format_cgroup_controllers(kCgroupCpu | kCgroupPids), "cpu pids");
}

TEST(CgroupMount, FindsTheCgroup2MountInMountinfo) {
  const char* hybrid =
      "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
      "26 24 0:24 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
      "27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw\n"
      "28 26 0:26 / /sys/fs/cgroup/memory rw shared:11 - cgroup cgroup rw,memory\n";
  EXPECT_EQ(find_cgroup2_mount_in(hybrid), "/sys/fs/cgroup/unified");
  const char* unified =
      "30 1 0:27 / /mnt/other rw - cgroup2 cgroup2 rw\n"
      "31 24 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec shared:4 - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(find_cgroup2_mount_in(unified), "/sys/fs/cgroup");
  EXPECT_EQ(find_cgroup2_mount_in("40 1 0:30 / /tmp/a\\040b rw - cgroup2 none rw\n"), "");
  EXPECT_EQ(find_cgroup2_mount_in("garbage\n - cgroup2\n\n"), "");
  EXPECT_EQ(find_cgroup2_mount_in(""), "");
}

TEST(CgroupKeyedValue, FindsKeysAndRejectsJunk) {
  uint64_t value = 0;
  EXPECT_EQ(parse_keyed_value("low 0\nhigh 3\nmax 7\noom 2\noom_kill 2\n", "oom_kill", value), 0);
  EXPECT_EQ(value, 2u);
  EXPECT_EQ(parse_keyed_value("oom 5\n", "oom_kill", value), ENOENT);
  EXPECT_EQ(parse_keyed_value("populated 1\nfrozen 0\n", "populated", value), 0);
  EXPECT_EQ(value, 1u);
  EXPECT_EQ(parse_keyed_value("populated x\n", "populated", value), EINVAL);
  EXPECT_EQ(parse_keyed_value("oom_kill_extra 4\n", "oom_kill", value), ENOENT);
}

TEST(CgroupTree, PrepareEnablesAvailableControllersOneByOne) {
  FakeCgroupFs fs;
  fs.files["/sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu memory pids hugetlb\n";
  CgroupTree tree("/sys/fs/cgroup/", fs);
  std::string error;
  ASSERT_EQ(tree.prepare(error), 0);
  EXPECT_EQ(error, "");
  EXPECT_EQ(tree.base(), "/sys/fs/cgroup/cairn");
  EXPECT_TRUE(fs.dirs.count("/sys/fs/cgroup/cairn"));
  EXPECT_EQ(fs.writes_to("/sys/fs/cgroup/cgroup.subtree_control"),
            (std::vector<std::string>{"+cpu", "+memory", "+pids"}));
  EXPECT_EQ(fs.writes_to("/sys/fs/cgroup/cairn/cgroup.subtree_control"),
            (std::vector<std::string>{"+cpu", "+memory", "+pids"}));
  EXPECT_EQ(tree.controllers(), kCgroupCpu | kCgroupMemory | kCgroupPids);
}

TEST(CgroupTree, PrepareReportsControllersThatCannotBeEnabled) {
  FakeCgroupFs fs;
  fs.files["/r/cgroup.controllers"] = "cpu io memory pids\n";
  fs.write_errors["/r/cgroup.subtree_control"] = EBUSY;
  CgroupTree tree("/r", fs);
  std::string error;
  ASSERT_EQ(tree.prepare(error), 0);
  EXPECT_EQ(tree.controllers(), 0u);
  EXPECT_NE(error.find("cannot enable memory"), std::string::npos) << error;
  EXPECT_NE(error.find("cannot enable io"), std::string::npos) << error;
}

TEST(CgroupTree, PrepareFailsWithoutControllersFile) {
  FakeCgroupFs fs;
  CgroupTree tree("/nowhere", fs);
  std::string error;
  EXPECT_EQ(tree.prepare(error), ENOENT);
  EXPECT_NE(error.find("/nowhere/cgroup.controllers"), std::string::npos) << error;
}

TEST(CgroupTree, FreezeAndKillTheWholeTree) {
  FakeCgroupFs fs;
  CgroupTree tree("/r", fs);
  EXPECT_EQ(tree.freeze_all(true), 0);
  EXPECT_EQ(tree.kill_all(), 0);
  EXPECT_EQ(tree.freeze_all(false), 0);
  EXPECT_EQ(fs.writes,
            (std::vector<std::pair<std::string, std::string>>{{"/r/cairn/cgroup.freeze", "1"},
                                                              {"/r/cairn/cgroup.kill", "1"},
                                                              {"/r/cairn/cgroup.freeze", "0"}}));
}

TEST(CgroupTree, KillAllFallsBackAcrossServices) {
  FakeCgroupFs fs;
  fs.write_errors["/r/cairn/cgroup.kill"] = ENOENT;
  fs.dirs = {"/r/cairn", "/r/cairn/a", "/r/cairn/b"};
  fs.files["/r/cairn/cgroup.procs"] = "";
  fs.files["/r/cairn/a/cgroup.procs"] = "11\n";
  fs.files["/r/cairn/b/cgroup.procs"] = "22\n23\n";
  CgroupTree tree("/r", fs);
  EXPECT_EQ(tree.kill_all(), 0);
  std::set<pid_t> killed;
  for (auto [pid, signal] : fs.kills) killed.insert(pid);
  EXPECT_EQ(killed, (std::set<pid_t>{11, 22, 23}));
}

TEST(ServiceCgroup, OpenRejectsBadNames) {
  Opened o;
  for (const char* name : {"", ".", "..", "a/b"}) {
    EXPECT_EQ(o.cgroup.open(o.tree, name), EINVAL) << name;
  }
}

class ApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs.files["/cg/cgroup.controllers"] = "cpu io memory pids\n";
    std::string error;
    ASSERT_EQ(tree.prepare(error), 0);
    ASSERT_EQ(cgroup.open(tree, "web"), 0);
    fs.writes.clear();
  }

  std::string written(const std::string& file) {
    auto values = fs.writes_to("/cg/cairn/web/" + file);
    return values.empty() ? "<none>" : values.back();
  }

  FakeCgroupFs fs;
  CgroupTree tree{"/cg", fs};
  ServiceCgroup cgroup;
};

TEST_F(ApplyTest, WritesEveryLimitInKernelSyntax) {
  ResourceSpec spec;
  spec.memory_max = 1ull << 30;
  spec.memory_high = 768ull << 20;
  spec.cpu_weight = 200;
  spec.cpu_max = CpuMax{50'000, 100'000};
  spec.pids_max = 4096;
  spec.io_weight = 300;
  ResourceApplyResult result = cgroup.apply(spec);
  EXPECT_TRUE(result.ok()) << result.describe();
  EXPECT_EQ(result.applied, kMemoryMax | kMemoryHigh | kCpuWeight | kCpuMax | kPidsMax | kIoWeight);
  EXPECT_EQ(written("memory.max"), "1073741824");
  EXPECT_EQ(written("memory.high"), "805306368");
  EXPECT_EQ(written("cpu.weight"), "200");
  EXPECT_EQ(written("cpu.max"), "50000 100000");
  EXPECT_EQ(written("pids.max"), "4096");
  EXPECT_EQ(written("io.weight"), "default 300");
}

TEST_F(ApplyTest, UnsetKeysResetToNoLimit) {
  ResourceApplyResult result = cgroup.apply(ResourceSpec{});
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.applied, 0u);
  EXPECT_EQ(written("memory.max"), "max");
  EXPECT_EQ(written("memory.high"), "max");
  EXPECT_EQ(written("cpu.weight"), "100");
  EXPECT_EQ(written("cpu.max"), "max 100000");
  EXPECT_EQ(written("pids.max"), "max");
  EXPECT_EQ(written("io.weight"), "default 100");
}

TEST_F(ApplyTest, UnlimitedCpuQuotaKeepsPeriod) {
  ResourceSpec spec;
  spec.cpu_max = CpuMax{0, 20'000};
  EXPECT_TRUE(cgroup.apply(spec).ok());
  EXPECT_EQ(written("cpu.max"), "max 20000");
}

TEST_F(ApplyTest, ReportsFailedWrites) {
  fs.write_errors["/cg/cairn/web/memory.max"] = EINVAL;
  ResourceSpec spec;
  spec.memory_max = 1;
  spec.pids_max = 10;
  ResourceApplyResult result = cgroup.apply(spec);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.failed, kMemoryMax);
  EXPECT_EQ(result.applied, kPidsMax);
  EXPECT_EQ(result.first_error, EINVAL);
  EXPECT_NE(result.describe().find("memory-max not applied"), std::string::npos);
}

TEST(ServiceCgroupApply, SkipsKeysWhoseControllerIsMissing) {
  Opened o;
  o.fs.files["/cg/cgroup.controllers"] = "cpu memory pids\n";  // no io (common on boards)
  std::string error;
  ASSERT_EQ(o.tree.prepare(error), 0);
  ASSERT_EQ(o.cgroup.open(o.tree, "db"), 0);
  ResourceSpec spec;
  spec.io_weight = 500;
  spec.pids_max = 64;
  ResourceApplyResult result = o.cgroup.apply(spec);
  EXPECT_EQ(result.unsupported, kIoWeight);
  EXPECT_EQ(result.applied, kPidsMax);
  EXPECT_EQ(result.failed, 0u);
  EXPECT_EQ(result.describe(), "io-weight skipped: io controller not available");
  EXPECT_TRUE(o.fs.writes_to("/cg/cairn/db/io.weight").empty());
}

TEST_F(ApplyTest, KillUsesCgroupKill) {
  EXPECT_EQ(cgroup.kill_all(), 0);
  EXPECT_EQ(fs.writes,
            (std::vector<std::pair<std::string, std::string>>{{"/cg/cairn/web/cgroup.kill", "1"}}));
  EXPECT_TRUE(fs.kills.empty());
}

TEST_F(ApplyTest, KillFallsBackToFreezeKillThawRecursively) {
  fs.write_errors["/cg/cairn/web/cgroup.kill"] = ENOENT;  // Linux < 5.14
  fs.files["/cg/cairn/web/cgroup.procs"] = "100\n101\n";
  fs.dirs.insert("/cg/cairn/web/worker");
  fs.files["/cg/cairn/web/worker/cgroup.procs"] = "200\n";
  EXPECT_EQ(cgroup.kill_all(), 0);
  ASSERT_GE(fs.writes.size(), 2u);
  EXPECT_EQ(fs.writes.front(),
            (std::pair<std::string, std::string>{"/cg/cairn/web/cgroup.freeze", "1"}));
  EXPECT_EQ(fs.writes.back(),
            (std::pair<std::string, std::string>{"/cg/cairn/web/cgroup.freeze", "0"}));
  std::set<pid_t> killed;
  for (auto [pid, signal] : fs.kills) {
    EXPECT_EQ(signal, SIGKILL);
    killed.insert(pid);
  }
  EXPECT_EQ(killed, (std::set<pid_t>{100, 101, 200}));
}

TEST_F(ApplyTest, KillReportsOtherErrors) {
  fs.write_errors["/cg/cairn/web/cgroup.kill"] = EACCES;
  EXPECT_EQ(cgroup.kill_all(), EACCES);
  EXPECT_TRUE(fs.kills.empty());
}

TEST_F(ApplyTest, ReadsCounters) {
  fs.files["/cg/cairn/web/cgroup.events"] = "populated 1\nfrozen 0\n";
  fs.files["/cg/cairn/web/memory.events"] = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n";
  fs.files["/cg/cairn/web/memory.current"] = "4096000\n";
  fs.files["/cg/cairn/web/cgroup.procs"] = "7\n9\n";
  bool populated = false, frozen = true;
  uint64_t oom = 0, current = 0;
  std::vector<pid_t> pids;
  EXPECT_EQ(cgroup.read_populated(populated), 0);
  EXPECT_TRUE(populated);
  EXPECT_EQ(cgroup.read_frozen(frozen), 0);
  EXPECT_FALSE(frozen);
  EXPECT_EQ(cgroup.read_oom_kills(oom), 0);
  EXPECT_EQ(oom, 2u);
  EXPECT_EQ(cgroup.read_memory_current(current), 0);
  EXPECT_EQ(current, 4096000u);
  EXPECT_EQ(cgroup.read_pids(pids), 0);
  EXPECT_EQ(pids, (std::vector<pid_t>{7, 9}));
  EXPECT_EQ(cgroup.events_path(), "/cg/cairn/web/cgroup.events");
}

TEST_F(ApplyTest, FreezeAndThaw) {
  EXPECT_EQ(cgroup.freeze(true), 0);
  EXPECT_EQ(cgroup.freeze(false), 0);
  EXPECT_EQ(fs.writes_to("/cg/cairn/web/cgroup.freeze"), (std::vector<std::string>{"1", "0"}));
}

TEST_F(ApplyTest, RemoveDeletesChildrenFirst) {
  fs.dirs.insert("/cg/cairn/web/a");
  fs.dirs.insert("/cg/cairn/web/a/b");
  ServiceCgroup moved = std::move(cgroup);
  EXPECT_FALSE(cgroup.is_open());
  EXPECT_EQ(moved.remove(), 0);
  EXPECT_EQ(fs.removed,
            (std::vector<std::string>{"/cg/cairn/web/a/b", "/cg/cairn/web/a", "/cg/cairn/web"}));
  EXPECT_FALSE(moved.is_open());
}

}  // namespace
}  // namespace cairn::init
