#include "init/system/api_mounts.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "init/system/fake_system_calls.h"
#include "init/system/mountinfo.h"

namespace cairn::init::system {
namespace {

using testing::FakeSystemCalls;

TEST(ApiMounts, BareSystemGetsEverythingInOrder) {
  FakeSystemCalls sys;
  MountReport r = mount_api_filesystems(sys);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.skipped.empty());
  ASSERT_EQ(r.mounted.size(), 7u);
  std::vector<std::string> expected = {"mount /proc proc",
                                       "mount /sys sysfs",
                                       "mount /dev devtmpfs mode=0755",
                                       "mount /dev/pts devpts mode=0620,gid=5,ptmxmode=0666",
                                       "mount /dev/shm tmpfs mode=1777",
                                       "mount /run tmpfs mode=0755",
                                       "mount /sys/fs/cgroup cgroup2 nsdelegate"};
  EXPECT_EQ(sys.calls, expected);
  EXPECT_TRUE(sys.made_dirs.count("/dev/pts"));
}

TEST(ApiMounts, AlreadyMountedTargetsAreSkipped) {
  FakeSystemCalls sys;
  sys.mounts = {{"/dev/vda", "/", "ext4", "rw"},
                {"proc", "/proc", "proc", "rw"},
                {"devtmpfs", "/dev", "devtmpfs", "rw"},
                {"tmpfs", "/run", "tmpfs", "rw"}};
  MountReport r = mount_api_filesystems(sys);
  EXPECT_EQ(r.skipped, (std::vector<std::string>{"/proc", "/dev", "/run"}));
  EXPECT_EQ(r.mounted,
            (std::vector<std::string>{"/sys", "/dev/pts", "/dev/shm", "/sys/fs/cgroup"}));
  // Idempotent: a second call mounts nothing.
  sys.calls.clear();
  MountReport again = mount_api_filesystems(sys);
  EXPECT_TRUE(again.mounted.empty());
  EXPECT_EQ(again.skipped.size(), 7u);
  EXPECT_TRUE(sys.calls.empty());
}

TEST(ApiMounts, CgroupWithoutNsdelegateAndOptionalFailures) {
  FakeSystemCalls sys;
  sys.mount_errors["/dev/shm"] = EPERM;
  int cgroup_calls = 0;
  // EINVAL for cgroup2 (nsdelegate refused outside the initial cgroup namespace): one retry
  // without options; here that fails too, and cgroup2 is optional.
  sys.mount_errors["/sys/fs/cgroup"] = EINVAL;
  MountReport r = mount_api_filesystems(sys);
  for (const auto& c : sys.calls) cgroup_calls += c.rfind("mount /sys/fs/cgroup", 0) == 0;
  EXPECT_EQ(cgroup_calls, 2);
  EXPECT_EQ(sys.calls.back(), "mount /sys/fs/cgroup cgroup2");  // the retry, no nsdelegate
  EXPECT_TRUE(r.ok());                                          // both optional
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0], "/dev/shm: mount tmpfs: Operation not permitted");
}

TEST(ApiMounts, RequiredFailureIsAnError) {
  FakeSystemCalls sys;
  sys.mount_errors["/sysroot/sys"] = ENODEV;
  MountReport r = mount_api_filesystems(sys, default_api_mounts(), "/sysroot");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "/sysroot/sys: mount sysfs: No such device");
  EXPECT_EQ(sys.calls[0], "mount /sysroot/proc proc");
}

// The real thing, in a private mount namespace of a child: mounts below a tmpfs and checks
// mountinfo, then a second call skips everything.
TEST(ApiMounts, RealMountsInAPrivateNamespace) {
  char dir_template[] = "/tmp/cairn-api-mounts-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string dir = dir_template;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (unshare(CLONE_NEWNS) != 0) _exit(10);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(11);
    if (mount("tmpfs", dir.c_str(), "tmpfs", 0, "mode=0755") != 0) _exit(12);
    MountReport first = mount_api_filesystems(real_system_calls(), default_api_mounts(), dir);
    if (!first.ok()) _exit(13);
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream text;
    text << in.rdbuf();
    Mountinfo info = parse_mountinfo(text.str());
    const MountEntry* proc = info.find(dir + "/proc");
    const MountEntry* dev = info.find(dir + "/dev");
    const MountEntry* run = info.find(dir + "/run");
    if (!proc || proc->fstype != "proc" || !dev || dev->fstype != "devtmpfs" || !run ||
        run->fstype != "tmpfs") {
      _exit(14);
    }
    if (access((dir + "/proc/self/stat").c_str(), R_OK) != 0) _exit(15);
    MountReport second = mount_api_filesystems(real_system_calls(), default_api_mounts(), dir);
    if (!second.mounted.empty() || second.skipped.size() != first.mounted.size()) _exit(16);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  rmdir(dir.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "step that failed: see _exit codes in the test";
}

}  // namespace
}  // namespace cairn::init::system
