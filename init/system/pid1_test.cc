#include "init/system/pid1.h"

#include <gtest/gtest.h>

#include "init/system/fake_system_calls.h"

namespace cairn::init::system {
namespace {

using testing::FakeSystemCalls;

TEST(Pid1, DetectMode) {
  FakeSystemCalls sys;
  sys.pid = 1234;
  EXPECT_EQ(detect_mode(sys), Pid1Mode::Dev);
  sys.pid = 1;
  EXPECT_EQ(detect_mode(sys), Pid1Mode::Namespace);  // no kernel threads visible
  sys.files["/proc/2/stat"] = "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0";
  EXPECT_EQ(detect_mode(sys), Pid1Mode::Boot);
  sys.files["/proc/2/stat"] = "2 (sh) S 1 2 2";
  EXPECT_EQ(detect_mode(sys), Pid1Mode::Namespace);
}

Pid1Options test_options() {
  Pid1Options o;
  o.install_crash_handler = false;  // never in the test process
  return o;
}

TEST(Pid1, BootSetupOnABareSystem) {
  FakeSystemCalls sys;
  sys.pid = 1;
  sys.files["/proc/2/stat"] = "2 (kthreadd) S 0 0 0";
  sys.files["/proc/self/stat"] = "1 (cairn-init) S 0 1 1";
  sys.files["/proc/cmdline"] = "quiet cairn.slot=a cairn.crash=freeze\n";
  sys.files["/proc/self/cgroup"] = "0::/\n";
  sys.files["/sys/fs/cgroup/cgroup.controllers"] = "cpu io memory pids\n";
  Pid1Setup s = setup_pid1(test_options(), sys);
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.mode, Pid1Mode::Boot);
  EXPECT_EQ(s.cmdline.get("cairn.slot"), "a");
  EXPECT_EQ(s.cgroup_base, "/sys/fs/cgroup");
  EXPECT_EQ(sys.calls[0], "mount /proc proc");
  EXPECT_EQ(sys.count_calls("cad off"), 1u);
  EXPECT_GT(sys.find_call("cad off"), sys.find_call("mount /sys/fs/cgroup"));
  EXPECT_EQ(sys.count_calls("mount "), 7u);
  EXPECT_TRUE(sys.made_dirs.count("/run/cairn"));
  EXPECT_EQ(sys.written["/sys/fs/cgroup/cairn-init/cgroup.procs"], "1");
  EXPECT_EQ(sys.count_calls("write /sys/fs/cgroup/cgroup.subtree_control +"), 4u);
}

TEST(Pid1, NamespaceSetupReplacesAForeignProc) {
  FakeSystemCalls sys;
  sys.pid = 1;
  // `unshare --pid --fork` without --mount-proc: /proc is the parent namespace's.
  sys.mounts = {{"/dev/vda", "/", "ext4", "rw"},
                {"proc", "/proc", "proc", "rw"},
                {"sysfs", "/sys", "sysfs", "rw"},
                {"devtmpfs", "/dev", "devtmpfs", "rw"}};
  sys.files["/proc/self/stat"] = "48213 (cairn-init) S 48212";
  sys.files["/proc/cmdline"] = "cairn.crash=reboot";
  Pid1Setup s = setup_pid1(test_options(), sys);
  EXPECT_EQ(s.mode, Pid1Mode::Namespace);
  EXPECT_TRUE(s.cmdline.all().empty());         // the host's command line is not ours
  EXPECT_EQ(sys.calls[0], "mount /proc proc");  // over the foreign one
  EXPECT_EQ(sys.count_calls("cad"), 0u);
  EXPECT_EQ(sys.count_calls("mount /sys "), 0u);
  EXPECT_EQ(sys.count_calls("mount /dev "), 0u);
  EXPECT_EQ(s.cgroup_base, "");  // the fake has no cgroup2
}

// /proc showed kernel threads (a /proc of the parent namespace that could not be replaced),
// but the kernel refuses RB_DISABLE_CAD with EINVAL, as it does in every PID namespace: that
// settles it. No "RB_DISABLE_CAD: Invalid argument" line, namespace mode, no host cmdline.
TEST(Pid1, CadRefusedMeansNamespaceModeQuietly) {
  FakeSystemCalls sys;
  sys.pid = 1;
  sys.files["/proc/2/stat"] = "2 (kthreadd) S 0 0 0";
  sys.files["/proc/self/stat"] = "1 (cairn-init) S 0 1 1";
  sys.files["/proc/cmdline"] = "cairn.crash=reboot\n";
  sys.cad_result = EINVAL;
  Pid1Setup s = setup_pid1(test_options(), sys);
  EXPECT_EQ(s.mode, Pid1Mode::Namespace);
  EXPECT_EQ(sys.count_calls("cad off"), 1u);
  EXPECT_TRUE(s.cmdline.all().empty());
  for (const std::string& line : s.log)
    EXPECT_EQ(line.find("RB_DISABLE_CAD"), std::string::npos) << line;
  EXPECT_TRUE(s.errors.empty());

  // Any other failure as the real PID 1 is worth a line (and stays boot mode).
  FakeSystemCalls boot;
  boot.pid = 1;
  boot.files["/proc/2/stat"] = "2 (kthreadd) S 0 0 0";
  boot.files["/proc/self/stat"] = "1 (cairn-init) S 0 1 1";
  boot.cad_result = EPERM;
  s = setup_pid1(test_options(), boot);
  EXPECT_EQ(s.mode, Pid1Mode::Boot);
  bool logged = false;
  for (const std::string& line : s.log) logged |= line == "RB_DISABLE_CAD: Operation not permitted";
  EXPECT_TRUE(logged);
}

TEST(Pid1, DevModeTouchesNothing) {
  FakeSystemCalls sys;
  sys.pid = 4321;
  Pid1Setup s = setup_pid1(test_options(), sys);
  EXPECT_EQ(s.mode, Pid1Mode::Dev);
  EXPECT_EQ(sys.count_calls("mount"), 0u);
  EXPECT_EQ(sys.count_calls("cad"), 0u);
  EXPECT_EQ(sys.count_calls("write"), 0u);
}

}  // namespace
}  // namespace cairn::init::system
