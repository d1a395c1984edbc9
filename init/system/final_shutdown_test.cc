#include "init/system/final_shutdown.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "init/system/fake_system_calls.h"

namespace cairn::init::system {
namespace {

using std::chrono::milliseconds;
using testing::FakeSystemCalls;

FakeSystemCalls booted_machine() {
  FakeSystemCalls sys;
  sys.mounts = {{"/dev/mapper/cairn-root", "/", "erofs", "ro"},
                {"proc", "/proc", "proc", "rw"},
                {"sysfs", "/sys", "sysfs", "rw"},
                {"cgroup2", "/sys/fs/cgroup", "cgroup2", "rw"},
                {"devtmpfs", "/dev", "devtmpfs", "rw"},
                {"tmpfs", "/run", "tmpfs", "rw"},
                {"/dev/vda4", "/var/lib/cairn-data", "ext4", "rw"},
                {"/dev/vda4", "/var", "ext4", "rw"},
                {"overlay", "/etc", "overlay", "rw"},
                {"/dev/vda1", "/boot", "vfat", "rw"}};
  return sys;
}

TEST(FinalShutdown, BootModeInOrder) {
  FakeSystemCalls sys = booted_machine();
  sys.live_children = 2;
  sys.on_kill = [&](pid_t pid, int signo) {
    if (pid == -1 && signo == SIGTERM) {  // both exit on SIGTERM
      sys.exits = {{300, SIGTERM}, {301, SIGTERM}};
      sys.live_children = 0;
    }
  };
  ShutdownPlan plan;
  plan.action = PowerAction::Poweroff;
  plan.freeze_cgroups = {"/sys/fs/cgroup/cairn"};
  std::vector<std::string> progress;
  plan.progress = [&](const std::string& line) { progress.push_back(line); };
  ShutdownReport r = run_shutdown_sequence(sys, plan);

  std::vector<std::string> expected = {
      "write /sys/fs/cgroup/cairn/cgroup.freeze 1",
      "kill -1 15",
      "kill -1 18",
      "write /sys/fs/cgroup/cairn/cgroup.freeze 0",
      "sync",
      "umount /boot",
      "umount /etc",
      "umount /var",
      "umount /var/lib/cairn-data",
      "reboot " + std::to_string(static_cast<int>(RB_POWER_OFF)),
  };
  EXPECT_EQ(sys.calls, expected);
  EXPECT_EQ(r.reaped, 2u);
  EXPECT_TRUE(r.all_exited_on_term);
  EXPECT_TRUE(r.synced);
  EXPECT_EQ(r.unmounted.size(), 4u);
  EXPECT_TRUE(r.busy.empty());  // the root was read-only already
  EXPECT_EQ(progress, r.log);
  EXPECT_EQ(progress.back(), "calling reboot(poweroff)");
}

TEST(FinalShutdown, StubbornProcessesGetSigkillAfterTheTimeout) {
  FakeSystemCalls sys = booted_machine();
  sys.live_children = 1;  // ignores SIGTERM
  sys.on_kill = [&](pid_t, int signo) {
    if (signo == SIGKILL) {
      sys.exits = {{400, SIGKILL}};
      sys.live_children = 0;
    }
  };
  ShutdownPlan plan;
  plan.action = PowerAction::Reboot;
  plan.term_timeout = milliseconds(3000);
  auto start = sys.now();
  ShutdownReport r = run_shutdown_sequence(sys, plan);
  EXPECT_FALSE(r.all_exited_on_term);
  EXPECT_TRUE(r.all_exited);
  EXPECT_GE(sys.now() - start, milliseconds(3000));
  EXPECT_LT(sys.now() - start, milliseconds(3200));
  EXPECT_LT(sys.find_call("kill -1 15"), sys.find_call("kill -1 9"));
  EXPECT_EQ(sys.calls.back(), "reboot " + std::to_string(static_cast<int>(RB_AUTOBOOT)));
}

TEST(FinalShutdown, BusyMountsAreRemountedReadOnlyAndRetried) {
  FakeSystemCalls sys = booted_machine();
  sys.mounts[0].options = "rw";  // a writable root
  sys.umount_errors["/var"] = EBUSY;
  sys.umount_errors["/etc"] = EBUSY;
  sys.remount_errors["/etc"] = EBUSY;
  sys.detach_errors["/etc"] = EINVAL;  // (a kernel that cannot detach it either)
  sys.sync_finishes = false;
  ShutdownPlan plan;
  plan.action = PowerAction::Halt;
  ShutdownReport r = run_shutdown_sequence(sys, plan);
  EXPECT_FALSE(r.synced);  // a hung sync does not stop the sequence
  EXPECT_EQ(r.remounted_ro, (std::vector<std::string>{"/var", "/"}));
  EXPECT_EQ(r.busy, (std::vector<std::string>{"/etc"}));
  EXPECT_EQ(r.unmounted, (std::vector<std::string>{"/boot", "/var/lib/cairn-data"}));
  // The second pass made no progress and ended the loop: /etc was tried exactly twice.
  EXPECT_EQ(sys.count_calls("umount /etc"), 2u);
  EXPECT_EQ(sys.calls.back(), "reboot " + std::to_string(static_cast<int>(RB_HALT_SYSTEM)));
}

// The x86_64 image's poweroff: /etc is an overlay whose upper dir lives on /var, so /var
// stays busy (neither unmountable nor remountable read-only) while /etc is mounted. The busy
// overlay is detached lazily, after which /var unmounts in the same pass.
TEST(FinalShutdown, BusyEtcOverlayIsDetachedSoVarEndsUnmounted) {
  FakeSystemCalls sys = booted_machine();
  sys.umount_errors["/etc"] = EBUSY;
  sys.remount_errors["/etc"] = EBUSY;
  sys.pinned_by["/var"] = "/etc";
  sys.pinned_by["/var/lib/cairn-data"] = "/etc";
  std::vector<std::string> progress;
  ShutdownPlan plan;
  plan.progress = [&](const std::string& line) { progress.push_back(line); };
  ShutdownReport r = run_shutdown_sequence(sys, plan);
  EXPECT_EQ(r.detached, (std::vector<std::string>{"/etc"}));
  EXPECT_EQ(r.unmounted,
            (std::vector<std::string>{"/boot", "/etc", "/var", "/var/lib/cairn-data"}));
  EXPECT_TRUE(r.busy.empty());
  EXPECT_FALSE(sys.mounted("/var"));
  EXPECT_LT(sys.find_call("umount-lazy /etc"), sys.find_call("umount /var"));
  EXPECT_EQ(sys.count_calls("umount-lazy"), 1u);  // only the overlay, only once
  EXPECT_EQ(sys.count_calls("remount /var"), 0u);
  EXPECT_NE(
      std::find(progress.begin(), progress.end(), "unmounted 4 (1 lazily), read-only 0, busy 0"),
      progress.end());
  for (const std::string& line : progress)
    EXPECT_EQ(line.find("still writable"), std::string::npos);
}

// A busy ordinary filesystem is never detached (its data would never be cleanly unmounted):
// it is remounted read-only, or named as still writable.
TEST(FinalShutdown, BusyNonOverlayIsNotDetached) {
  FakeSystemCalls sys = booted_machine();
  sys.umount_errors["/var"] = EBUSY;
  sys.remount_errors["/var"] = EBUSY;  // a file still open for writing
  std::vector<std::string> progress;
  ShutdownPlan plan;
  plan.progress = [&](const std::string& line) { progress.push_back(line); };
  ShutdownReport r = run_shutdown_sequence(sys, plan);
  EXPECT_EQ(sys.count_calls("umount-lazy"), 0u);
  EXPECT_EQ(r.busy, (std::vector<std::string>{"/var"}));
  EXPECT_NE(std::find(progress.begin(), progress.end(), "still writable: /var"), progress.end());
}

TEST(FinalShutdown, NamespaceModeNeverTouchesMounts) {
  FakeSystemCalls sys = booted_machine();
  ShutdownPlan plan;
  plan.mode = Pid1Mode::Namespace;
  ShutdownReport r = run_shutdown_sequence(sys, plan);
  EXPECT_EQ(sys.count_calls("umount"), 0u);
  EXPECT_EQ(sys.count_calls("remount"), 0u);
  EXPECT_EQ(sys.count_calls("kill -1 15"), 1u);
  EXPECT_EQ(sys.count_calls("reboot"), 1u);
}

TEST(FinalShutdown, DevModeKillsOnlyDescendantsAndNeverReboots) {
  FakeSystemCalls sys;
  sys.pid = 500;
  sys.dirs["/proc"] = {"1", "500", "501", "502", "503", "self", "sys"};
  sys.files["/proc/1/stat"] = "1 (init) S 0 1 1";
  sys.files["/proc/500/stat"] = "500 (cairn-init) S 1 500";
  sys.files["/proc/501/stat"] = "501 (svc) S 500 501";
  sys.files["/proc/502/stat"] = "502 (a (weird) name) S 501 502";  // grandchild
  sys.files["/proc/503/stat"] = "503 (unrelated) S 1 503";
  ShutdownPlan plan;
  plan.mode = Pid1Mode::Dev;
  run_shutdown_sequence(sys, plan);
  EXPECT_EQ(sys.count_calls("kill -1"), 0u);
  EXPECT_EQ(sys.count_calls("kill 501 15"), 1u);
  EXPECT_EQ(sys.count_calls("kill 502 15"), 1u);
  EXPECT_EQ(sys.count_calls("kill 503"), 0u);
  EXPECT_EQ(sys.count_calls("kill 1 "), 0u);
  EXPECT_EQ(sys.count_calls("reboot"), 0u);
  EXPECT_EQ(sys.count_calls("umount"), 0u);
}

// Real processes in Dev mode: a subreaper with three children, one ignoring SIGTERM and one
// with a grandchild, ends with nothing left.
TEST(FinalShutdown, RealDevModeLeavesNoProcessBehind) {
  pid_t helper = fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int ready[2];
    if (pipe(ready) != 0) _exit(90);
    for (int i = 0; i < 3; ++i) {
      if (fork() == 0) {
        if (i == 0) signal(SIGTERM, SIG_IGN);
        if (i == 1 && fork() == 0) {
          (void)!write(ready[1], "g", 1);
          pause();
          _exit(0);
        }
        (void)!write(ready[1], "c", 1);
        pause();
        _exit(0);
      }
    }
    char buf[4];
    for (int got = 0; got < 4;) {
      ssize_t n = read(ready[0], buf, sizeof buf);
      if (n <= 0) _exit(91);
      got += static_cast<int>(n);
    }
    ShutdownPlan plan;
    plan.mode = Pid1Mode::Dev;
    plan.term_timeout = milliseconds(1000);
    plan.kill_timeout = milliseconds(10'000);
    ShutdownReport r = run_shutdown_sequence(real_system_calls(), plan);
    int status;
    bool none_left = waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
    _exit(!r.all_exited_on_term && r.all_exited && r.reaped == 4 && none_left ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(helper, &status, 0), helper);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace cairn::init::system
