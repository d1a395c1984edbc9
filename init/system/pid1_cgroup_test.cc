#include "init/system/pid1_cgroup.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "init/system/fake_system_calls.h"

namespace cairn::init::system {
namespace {

using testing::FakeSystemCalls;

TEST(Pid1Cgroup, OwnDirOnPureV2AndHybrid) {
  FakeSystemCalls sys;
  sys.mounts = {{"proc", "/proc", "proc", "rw"}, {"cgroup2", "/sys/fs/cgroup", "cgroup2", "rw"}};
  sys.files["/proc/self/cgroup"] = "0::/\n";
  EXPECT_EQ(own_cgroup_dir(sys), "/sys/fs/cgroup");
  sys.files["/proc/self/cgroup"] = "0::/system.slice/x.service\n";
  EXPECT_EQ(own_cgroup_dir(sys), "/sys/fs/cgroup/system.slice/x.service");

  FakeSystemCalls hybrid;
  hybrid.mounts = {{"proc", "/proc", "proc", "rw"},
                   {"tmpfs", "/sys/fs/cgroup", "tmpfs", "rw"},
                   {"cgroup", "/sys/fs/cgroup/memory", "cgroup", "rw"},
                   {"cgroup2", "/sys/fs/cgroup/unified", "cgroup2", "rw"}};
  hybrid.files["/proc/self/cgroup"] = "4:memory:/a\n0::/a\n";
  EXPECT_EQ(own_cgroup_dir(hybrid), "/sys/fs/cgroup/unified/a");

  FakeSystemCalls none;
  none.mounts = {{"proc", "/proc", "proc", "rw"}};
  none.files["/proc/self/cgroup"] = "0::/\n";
  EXPECT_EQ(own_cgroup_dir(none), "");
}

TEST(Pid1Cgroup, MovesIntoLeafAndEnablesWhatIsAvailable) {
  FakeSystemCalls sys;
  sys.pid = 1;
  sys.files["/sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu memory pids\n";
  CgroupSetup cg = setup_pid1_cgroup(sys, "/sys/fs/cgroup");
  EXPECT_EQ(cg.leaf, "/sys/fs/cgroup/cairn-init");
  EXPECT_TRUE(sys.made_dirs.count("/sys/fs/cgroup/cairn-init"));
  std::vector<std::string> expected = {"write /sys/fs/cgroup/cairn-init/cgroup.procs 1",
                                       "write /sys/fs/cgroup/cgroup.subtree_control +cpu",
                                       "write /sys/fs/cgroup/cgroup.subtree_control +memory",
                                       "write /sys/fs/cgroup/cgroup.subtree_control +pids"};
  EXPECT_EQ(sys.calls, expected);
  EXPECT_EQ(cg.enabled, (std::vector<std::string>{"cpu", "memory", "pids"}));
  ASSERT_EQ(cg.warnings.size(), 1u);
  EXPECT_EQ(cg.warnings[0], "controller io not available");
}

TEST(Pid1Cgroup, FailuresAreWarningsNotFatal) {
  FakeSystemCalls sys;
  sys.write_errors["/cg/cairn-init/cgroup.procs"] = EBUSY;
  sys.files["/cg/cgroup.controllers"] = "cpu io";
  sys.write_errors["/cg/cgroup.subtree_control"] = EBUSY;
  CgroupSetup cg = setup_pid1_cgroup(sys, "/cg");
  EXPECT_EQ(cg.leaf, "");
  EXPECT_TRUE(cg.enabled.empty());
  EXPECT_EQ(cg.warnings.size(), 5u);  // procs, cpu, memory, pids (missing), io
  CgroupSetup none = setup_pid1_cgroup(sys, "");
  EXPECT_EQ(none.warnings.size(), 1u);
}

// Real cgroup2: a child moves itself into <test cgroup>/cairn-init.
TEST(Pid1Cgroup, RealMoveIntoLeaf) {
  std::string base = own_cgroup_dir(real_system_calls());
  if (base.empty()) GTEST_SKIP() << "no cgroup2 hierarchy here";
  std::string test_dir = base + "/cairn-h4-test-" + std::to_string(getpid());
  if (mkdir(test_dir.c_str(), 0755) != 0) GTEST_SKIP() << "cannot create a cgroup here";
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    CgroupSetup cg = setup_pid1_cgroup(real_system_calls(), test_dir);
    char ok = cg.leaf.empty() ? 'n' : 'y';
    (void)!write(ready[1], &ok, 1);
    pause();
    _exit(0);
  }
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  std::ifstream in("/proc/" + std::to_string(child) + "/cgroup");
  std::stringstream text;
  text << in.rdbuf();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(ready[0]);
  close(ready[1]);
  EXPECT_EQ(ok, 'y');
  EXPECT_NE(text.str().find("cairn-h4-test-" + std::to_string(getpid()) + "/cairn-init"),
            std::string::npos)
      << text.str();
  rmdir((test_dir + "/cairn-init").c_str());
  EXPECT_EQ(rmdir(test_dir.c_str()), 0);
}

}  // namespace
}  // namespace cairn::init::system
