#include "init/node/node_apply.h"

#include <gtest/gtest.h>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "init/system/fake_system_calls.h"

namespace cairn::init::node {
namespace {

using system::testing::FakeSystemCalls;

bool has(const std::vector<std::string>& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

TEST(NodeApply, ValidConfigSetsHostnameEtcHostnameAndSysctls) {
  FakeSystemCalls sys;
  std::string text = "hostname = \"edge-01\"\n[sysctl]\n\"net.ipv4.ip_forward\" = 1\n";
  sys.files["/boot/node.toml"] = text;
  sys.files["/etc/hostname"] = "cairn\n";
  sys.files["/boot/cairn-node-error.txt"] = "old error\n";
  NodeApplyReport r = apply_node_config(sys);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_EQ(sys.hostname, "edge-01");
  EXPECT_EQ(r.hostname, "edge-01");
  EXPECT_EQ(r.source, "/boot/node.toml");
  EXPECT_EQ(sys.files["/etc/hostname"], "edge-01\n");
  EXPECT_EQ(sys.written["/proc/sys/net/ipv4/ip_forward"], "1");
  EXPECT_EQ(sys.files["/var/lib/cairn/node.last-good.toml"], text);
  EXPECT_EQ(sys.files.count("/boot/cairn-node-error.txt"), 0u);  // the old error is gone
  EXPECT_TRUE(has(r.log, "hostname edge-01 (from /boot/node.toml)"));
  EXPECT_TRUE(has(r.log, "sysctl net.ipv4.ip_forward = 1"));
  // Hostname before /etc/hostname: the kernel's name is what services see first.
  EXPECT_LT(sys.find_call("sethostname edge-01"), sys.find_call("replace /etc/hostname"));
}

// A broken edit: every error with file:line:col on the console and on the boot partition,
// and the last good config stays in force. The boot goes on.
TEST(NodeApply, InvalidConfigFallsBackToTheLastGoodOne) {
  FakeSystemCalls sys;
  sys.files["/boot/node.toml"] = "hostname = \"Edge_01\"\n[sysctl]\nswappiness = 1\n";
  sys.files["/var/lib/cairn/node.last-good.toml"] = "hostname = \"edge-01\"\n";
  NodeApplyReport r = apply_node_config(sys);
  EXPECT_TRUE(has(r.errors, "/boot/node.toml:1:12: error: hostname: contains 'E'"));
  EXPECT_TRUE(has(r.errors, "/boot/node.toml:3:1: error: sysctl.swappiness"));
  EXPECT_TRUE(has(r.errors, "using the last good one, /var/lib/cairn/node.last-good.toml"));
  const std::string& report = sys.files["/boot/cairn-node-error.txt"];
  EXPECT_NE(report.find("/boot/node.toml:1:12: error: hostname"), std::string::npos) << report;
  EXPECT_EQ(sys.hostname, "edge-01");
  EXPECT_EQ(r.source, "/var/lib/cairn/node.last-good.toml");
  EXPECT_EQ(sys.count_calls("write /proc/sys"), 0u);
  // The broken file never becomes the last good one.
  EXPECT_EQ(sys.files["/var/lib/cairn/node.last-good.toml"], "hostname = \"edge-01\"\n");
}

TEST(NodeApply, InvalidConfigWithoutHistoryUsesTheImageDefault) {
  FakeSystemCalls sys;
  sys.files["/boot/node.toml"] = "hostname = [\n";  // a syntax error
  sys.files["/usr/share/cairn/node.default.toml"] = "hostname = \"cairn-qemu\"\n";
  NodeApplyReport r = apply_node_config(sys);
  EXPECT_TRUE(has(r.errors, "/boot/node.toml:"));
  EXPECT_EQ(sys.hostname, "cairn-qemu");
  EXPECT_EQ(r.source, "/usr/share/cairn/node.default.toml");
}

TEST(NodeApply, NoNodeTomlUsesTheImageDefaultThenEtcHostname) {
  FakeSystemCalls sys;
  sys.files["/usr/share/cairn/node.default.toml"] = "hostname = \"cairn-qemu\"\n";
  NodeApplyReport r = apply_node_config(sys);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(sys.hostname, "cairn-qemu");

  FakeSystemCalls bare;
  bare.files["/etc/hostname"] = "from-etc\n";
  r = apply_node_config(bare);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(bare.hostname, "from-etc");
  EXPECT_EQ(bare.count_calls("replace /etc/hostname"), 0u);  // already says so

  FakeSystemCalls nothing;
  r = apply_node_config(nothing);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(nothing.count_calls("sethostname"), 0u);
}

TEST(NodeApply, FailuresAreReportedNotFatal) {
  FakeSystemCalls sys;
  sys.files["/boot/node.toml"] =
      "hostname = \"edge-01\"\n[sysctl]\n\"net.nope.x\" = 1\n\"vm.swappiness\" = 5\n";
  sys.write_errors["/proc/sys/net/nope/x"] = ENOENT;
  sys.write_errors["/etc/hostname"] = EROFS;
  NodeApplyReport r = apply_node_config(sys);
  EXPECT_EQ(sys.hostname, "edge-01");
  EXPECT_TRUE(has(r.errors, "sysctl net.nope.x = 1: No such file or directory"));
  EXPECT_TRUE(has(r.errors, "/etc/hostname: Read-only file system"));
  EXPECT_EQ(sys.written["/proc/sys/vm/swappiness"], "5");  // the next one still applied
}

// The real seam in a private UTS namespace (the host keeps its name): sethostname, the atomic
// /etc/hostname replacement and the saved last good config, on files under a temp dir.
TEST(NodeApply, RealSystemCallsInAPrivateUtsNamespace) {
  char tmpl[] = "/tmp/cairn-node-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (unshare(CLONE_NEWUTS) != 0) _exit(10);
    NodeConfigPaths paths;
    paths.config = dir + "/boot/node.toml";
    paths.image_default = dir + "/none.toml";
    paths.last_good = dir + "/var/lib/cairn/node.last-good.toml";
    paths.error_report = dir + "/boot/cairn-node-error.txt";
    paths.etc_hostname = dir + "/etc/hostname";
    system::SystemCalls& sys = system::real_system_calls();
    if (sys.make_dirs(dir + "/boot", 0755) != 0 || sys.make_dirs(dir + "/etc", 0755) != 0)
      _exit(11);
    if (sys.replace_file(paths.config, "hostname = \"edge-07\"\n", 0644) != 0) _exit(12);
    NodeApplyReport r = apply_node_config(sys, paths);
    if (!r.errors.empty()) _exit(13);
    char name[65] = {};
    if (gethostname(name, sizeof name - 1) != 0 || std::string(name) != "edge-07") _exit(14);
    std::string text;
    if (sys.read_file(paths.etc_hostname, text) != 0 || text != "edge-07\n") _exit(15);
    if (sys.read_file(paths.last_good, text) != 0 || text != "hostname = \"edge-07\"\n") _exit(16);
    if (access((paths.etc_hostname + ".cairn-new").c_str(), F_OK) == 0) _exit(17);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  std::string cleanup = "rm -rf '" + dir + "'";
  EXPECT_EQ(std::system(cleanup.c_str()), 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace cairn::init::node
