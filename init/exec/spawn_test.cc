// Integration tests: real children (/bin/sh, /bin/cat and exec_probe) inspected from inside.
#include "init/exec/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "init/exec/spawn_test_util.h"

namespace cairn::init {
namespace {

using testing::Finished;
using testing::run_service;
using testing::status_field;

const std::string kProbe = CAIRN_EXEC_PROBE;

ServiceSpec spec_named(const char* name) {
  ServiceSpec spec;
  spec.name = name;
  return spec;
}

std::string self_ns(const char* ns) {
  return std::filesystem::read_symlink(std::string("/proc/self/ns/") + ns).string();
}

TEST(Spawn, RunsAndCapturesOutput) {
  ServiceSpec spec = spec_named("hello");
  Finished done = run_service(spec, {"/bin/sh", "-c", "echo hello $FOO; echo err >&2"},
                              SpawnRequest{.env = {"FOO=bar"}});
  ASSERT_TRUE(done.result.ok()) << done.result.stage << " " << done.result.error;
  EXPECT_GE(done.result.pidfd, 0);
  EXPECT_EQ(done.output, "hello bar\nerr\n");
  EXPECT_EQ(done.exit_code(), 0);
}

TEST(Spawn, StdinIsDevNullAndWorkingDirectoryApplies) {
  ServiceSpec spec = spec_named("cwd");
  spec.working_directory = "/tmp";
  Finished done = run_service(spec, {"/bin/sh", "-c", "pwd; readlink /proc/self/fd/0; cat"});
  ASSERT_TRUE(done.result.ok());
  EXPECT_EQ(done.output, "/tmp\n/dev/null\n");
  ServiceSpec root = spec_named("cwd-default");
  done = run_service(root, {"/bin/sh", "-c", "pwd"});
  EXPECT_EQ(done.output, "/\n");
}

TEST(Spawn, UmaskIsTheDefaultWhateverTheParentHas) {
  mode_t old = umask(077);
  ServiceSpec spec = spec_named("umask");
  Finished done = run_service(spec, {"/bin/sh", "-c", "umask"});
  umask(old);
  ASSERT_TRUE(done.result.ok());
  EXPECT_EQ(done.output, "0022\n");
}

TEST(Spawn, MissingExecutableFailsAtExecve) {
  ServiceSpec spec = spec_named("missing");
  Finished done = run_service(spec, {"/nonexistent/daemon"});
  ASSERT_FALSE(done.result.ok());
  EXPECT_STREQ(done.result.stage, "execve");
  EXPECT_EQ(done.result.error, ENOENT);
  // The failed child was reaped by spawn_service: nothing is left to wait for.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Spawn, BadUserFailsBeforeTheFork) {
  ServiceSpec spec = spec_named("baduser");
  spec.user = "no-such-user-cairn";
  Finished done = run_service(spec, {"/bin/true"});
  ASSERT_FALSE(done.result.ok());
  EXPECT_STREQ(done.result.stage, "credentials");
  EXPECT_EQ(done.result.error, ENOENT);
  EXPECT_NE(done.result.detail.find("no-such-user-cairn"), std::string::npos);
}

TEST(Spawn, RelativeExecIsRejected) {
  ServiceSpec spec = spec_named("relative");
  Finished done = run_service(spec, {"true"});
  EXPECT_STREQ(done.result.stage, "prepare");
  EXPECT_EQ(done.result.error, EINVAL);
}

TEST(Spawn, BadWorkingDirectoryFailsAtChdir) {
  ServiceSpec spec = spec_named("badcwd");
  spec.working_directory = "/nonexistent-dir-cairn";
  Finished done = run_service(spec, {"/bin/true"});
  EXPECT_STREQ(done.result.stage, "chdir");
  EXPECT_EQ(done.result.error, ENOENT);
}

TEST(Spawn, DropsToUserAndGroups) {
  ServiceSpec spec = spec_named("nobody");
  spec.user = "65534";
  spec.group = "65533";
  Finished done = run_service(spec, {"/bin/cat", "/proc/self/status"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_EQ(status_field(done.output, "Uid"), "65534\t65534\t65534\t65534");
  EXPECT_EQ(status_field(done.output, "Gid"), "65533\t65533\t65533\t65533");
  EXPECT_EQ(status_field(done.output, "Groups"), "65533 ");  // the kernel ends each with " "
  EXPECT_EQ(status_field(done.output, "CapEff"), "0000000000000000");
  EXPECT_EQ(status_field(done.output, "CapPrm"), "0000000000000000");
}

TEST(Spawn, BoundingAndAmbientCapabilitiesForANonRootService) {
  ServiceSpec spec = spec_named("caps");
  spec.user = "65534";
  spec.isolation.capabilities = std::vector<int>{CAP_NET_RAW};
  spec.isolation.ambient_capabilities = {CAP_NET_BIND_SERVICE};
  Finished done = run_service(spec, {"/bin/cat", "/proc/self/status"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage << " " << strerror(done.result.error);
  // Ambient caps are kept in the bounding set too.
  EXPECT_EQ(status_field(done.output, "CapBnd"), "0000000000002400");
  EXPECT_EQ(status_field(done.output, "CapAmb"), "0000000000000400");
  EXPECT_EQ(status_field(done.output, "CapEff"), "0000000000000400");
  EXPECT_EQ(status_field(done.output, "CapPrm"), "0000000000000400");
  EXPECT_EQ(status_field(done.output, "CapInh"), "0000000000000400");
}

TEST(Spawn, RootServiceKeepsOnlyItsBoundingSet) {
  ServiceSpec spec = spec_named("rootcaps");
  spec.isolation.capabilities = std::vector<int>{CAP_CHOWN, CAP_KILL};
  Finished done = run_service(spec, {"/bin/cat", "/proc/self/status"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_EQ(status_field(done.output, "CapBnd"), "0000000000000021");
  EXPECT_EQ(status_field(done.output, "CapEff"), "0000000000000021");
  EXPECT_EQ(status_field(done.output, "CapAmb"), "0000000000000000");
}

TEST(Spawn, NoNewPrivsAndSeccompFilter) {
  ServiceSpec spec = spec_named("seccomp");
  spec.isolation.no_new_privileges = true;
  spec.isolation.seccomp = "default";
  Finished done = run_service(spec, {"/bin/cat", "/proc/self/status"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_EQ(status_field(done.output, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(done.output, "Seccomp"), "2");
  ServiceSpec plain = spec_named("plain");
  done = run_service(plain, {"/bin/cat", "/proc/self/status"});
  EXPECT_EQ(status_field(done.output, "NoNewPrivs"), "0");
  EXPECT_EQ(status_field(done.output, "Seccomp"), "0");
}

TEST(Spawn, DefaultSeccompDeniesWithEperm) {
  ServiceSpec spec = spec_named("deny");
  spec.isolation.seccomp = "default";
  Finished done = run_service(spec, {kProbe, "syscalls"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_NE(done.output.find("syslog 1\n"), std::string::npos) << done.output;  // EPERM
  EXPECT_NE(done.output.find("keyctl 1\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("unshare 1\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("personality 0\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("personality-odd 1\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("getpid 0\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("fork 0\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("clone-newuts 1\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("clone3 38\n"), std::string::npos) << done.output;  // ENOSYS

  // Unfiltered, the same calls succeed (root): the EPERMs above came from the filter.
  ServiceSpec open_spec = spec_named("open");
  done = run_service(open_spec, {kProbe, "syscalls"});
  EXPECT_NE(done.output.find("syslog 0\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("personality-odd 0\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("clone-newuts 0\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("clone3 0\n"), std::string::npos) << done.output;
}

#if defined(__x86_64__)
TEST(Spawn, DefaultSeccompKillsOtherAbis) {
  // x32 shares the x86_64 audit arch; libseccomp's native-only filter treats it as a bad
  // architecture (SIGSYS), so the deny list cannot be bypassed through it.
  ServiceSpec open_spec = spec_named("x32-open");
  Finished done = run_service(open_spec, {kProbe, "x32"});
  ASSERT_TRUE(done.result.ok());
  EXPECT_EQ(done.exit_code(), 0) << done.output;
  ServiceSpec spec = spec_named("x32");
  spec.isolation.seccomp = "default";
  done = run_service(spec, {kProbe, "x32"});
  ASSERT_TRUE(done.result.ok());
  EXPECT_TRUE(WIFSIGNALED(done.wait_status) && WTERMSIG(done.wait_status) == SIGSYS)
      << done.wait_status << " " << done.output;
}

TEST(Spawn, DefaultSeccompKillsI386Syscalls) {
  ServiceSpec open_spec = spec_named("i386-open");
  Finished done = run_service(open_spec, {kProbe, "i386"});
  ASSERT_TRUE(done.result.ok());
  if (done.exit_code() != 0) GTEST_SKIP() << "no IA32 emulation in this kernel: " << done.output;
  ServiceSpec spec = spec_named("i386");
  spec.isolation.seccomp = "default";
  done = run_service(spec, {kProbe, "i386"});
  ASSERT_TRUE(done.result.ok());
  EXPECT_TRUE(WIFSIGNALED(done.wait_status) && WTERMSIG(done.wait_status) == SIGSYS)
      << done.wait_status << " " << done.output;
}
#endif

TEST(Spawn, SeccompAllowAndDenyPerService) {
  ServiceSpec spec = spec_named("allow");
  spec.isolation.seccomp = "default";
  spec.isolation.seccomp_allow = {"syslog"};
  spec.isolation.seccomp_deny = {"getpid"};
  Finished done = run_service(spec, {kProbe, "syscalls"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_NE(done.output.find("syslog 0\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("keyctl 1\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("getpid 1\n"), std::string::npos) << done.output;
}

TEST(Spawn, SeccompForANonRootServiceImpliesNoNewPrivs) {
  ServiceSpec spec = spec_named("nnp");
  spec.user = "65534";
  spec.isolation.seccomp = "default";
  Finished done = run_service(spec, {"/bin/cat", "/proc/self/status"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage << " " << strerror(done.result.error);
  EXPECT_EQ(status_field(done.output, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(done.output, "Seccomp"), "2");
}

TEST(Spawn, NamespacesDifferFromTheParent) {
  ServiceSpec spec = spec_named("ns");
  spec.isolation.namespaces = {Namespace::Mount, Namespace::Pid, Namespace::Ipc,
                               Namespace::Uts,   Namespace::Net, Namespace::Cgroup};
  spec.isolation.hostname = "svc-host";
  Finished done = run_service(
      spec, {"/bin/sh", "-c",
             "for n in mnt pid ipc uts net cgroup; do echo $n $(readlink /proc/self/ns/$n); "
             "done; echo pid $$; echo host $(cat /proc/sys/kernel/hostname); "
             "cat /sys/class/net/lo/operstate /sys/class/net/lo/flags"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage << " " << strerror(done.result.error);
  std::istringstream lines(done.output);
  std::string name, link;
  int seen = 0;
  for (const char* ns : {"mnt", "pid", "ipc", "uts", "net", "cgroup"}) {
    lines >> name >> link;
    EXPECT_EQ(name, ns);
    EXPECT_NE(link, self_ns(ns)) << ns;
    EXPECT_FALSE(link.empty());
    ++seen;
  }
  EXPECT_EQ(seen, 6);
  EXPECT_NE(done.output.find("pid 1\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("host svc-host\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("0x9\n"), std::string::npos) << done.output;  // lo: UP|LOOPBACK
  std::ifstream host("/proc/sys/kernel/hostname");
  std::string host_name;
  host >> host_name;
  EXPECT_NE(host_name, "svc-host");
}

TEST(Spawn, NoNamespacesMeansSameNamespaces) {
  ServiceSpec spec = spec_named("samens");
  Finished done = run_service(spec, {"/bin/readlink", "/proc/self/ns/mnt"});
  EXPECT_EQ(done.output, self_ns("mnt") + "\n");
}

TEST(Spawn, HostnameWithoutUtsNamespaceIsRejected) {
  ServiceSpec spec = spec_named("host");
  spec.isolation.hostname = "x";
  Finished done = run_service(spec, {"/bin/true"});
  EXPECT_STREQ(done.result.stage, "prepare");
  EXPECT_EQ(done.result.error, EINVAL);
}

class PathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cairn-paths-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/ro/sub");
    std::filesystem::create_directories(dir_ + "/private");
    std::ofstream(dir_ + "/private/secret") << "host data\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(PathsTest, ReadOnlyAndPrivatePaths) {
  ServiceSpec spec = spec_named("paths");
  spec.user = "65534";
  spec.isolation.read_only_paths = {dir_ + "/ro"};
  spec.isolation.private_paths = {dir_ + "/private"};
  chmod(dir_.c_str(), 0755);
  chmod((dir_ + "/ro").c_str(), 0777);
  Finished done = run_service(spec, {"/bin/sh", "-c",
                                     "touch " + dir_ +
                                         "/ro/x 2>/dev/null; echo ro $?; "
                                         "echo private $(ls -A " +
                                         dir_ +
                                         "/private | wc -l); "
                                         "touch " +
                                         dir_ + "/private/mine; echo write $?"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage << " " << strerror(done.result.error);
  EXPECT_NE(done.output.find("ro 1\n"), std::string::npos) << done.output;
  EXPECT_NE(done.output.find("private 0\n"), std::string::npos) << done.output;
  // The tmpfs belongs to the service user, so it can write there.
  EXPECT_NE(done.output.find("write 0\n"), std::string::npos) << done.output;
  // Nothing leaked to the host: its files are intact, the service's file is not there.
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/ro/x"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/private/secret"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/private/mine"));
}

TEST_F(PathsTest, ReadOnlyCoversSubmounts) {
  // A mount below the read-only path (made on the host for this test) is read-only too.
  ASSERT_EQ(mount("tmpfs", (dir_ + "/ro/sub").c_str(), "tmpfs", 0, "size=1m"), 0);
  ServiceSpec spec = spec_named("recursive");
  spec.isolation.read_only_paths = {dir_ + "/ro"};
  Finished done = run_service(spec, {"/bin/sh", "-c", "touch " + dir_ + "/ro/sub/x; echo $?"});
  umount2((dir_ + "/ro/sub").c_str(), MNT_DETACH);
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_NE(done.output.find("1\n"), std::string::npos) << done.output;
}

TEST_F(PathsTest, PrivatePathInsideReadOnlyPathIsWritable) {
  // Private paths are mounted after read-only ones (documented order).
  ServiceSpec spec = spec_named("private-in-ro");
  spec.isolation.private_paths = {dir_ + "/ro/sub"};
  spec.isolation.read_only_paths = {dir_ + "/ro"};
  Finished done = run_service(spec, {"/bin/sh", "-c", "touch " + dir_ + "/ro/sub/x; echo $?"});
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_EQ(done.output, "0\n");
}

TEST_F(PathsTest, MissingReadOnlyPathFails) {
  ServiceSpec spec = spec_named("missing-ro");
  spec.isolation.read_only_paths = {dir_ + "/nope"};
  Finished done = run_service(spec, {"/bin/true"});
  EXPECT_STREQ(done.result.stage, "mount-read-only");
  EXPECT_EQ(done.result.error, ENOENT);
}

TEST(Spawn, RlimitsAreSet) {
  ServiceSpec spec = spec_named("rlimits");
  spec.isolation.rlimits = {{RLIMIT_NOFILE, 123, 456}, {RLIMIT_CORE, 0, 0}};
  Finished done = run_service(spec, {"/bin/cat", "/proc/self/limits"});
  ASSERT_TRUE(done.result.ok());
  EXPECT_NE(done.output.find("Max open files            123                  456"),
            std::string::npos)
      << done.output;
  EXPECT_NE(done.output.find("Max core file size        0                    0"), std::string::npos)
      << done.output;
}

TEST(Spawn, ImpossibleRlimitFailsAtSetrlimit) {
  ServiceSpec spec = spec_named("badlimit");
  spec.isolation.rlimits = {{RLIMIT_NOFILE, 10, 5}};  // soft above hard
  Finished done = run_service(spec, {"/bin/true"});
  EXPECT_STREQ(done.result.stage, "setrlimit");
  EXPECT_EQ(done.result.error, EINVAL);
}

TEST(Spawn, NoDescriptorLeaksAndReadyFdArrives) {
  // Leak bait: descriptors without O_CLOEXEC at low and high numbers.
  int bait_low = open("/dev/null", O_RDONLY);
  int bait_high = fcntl(bait_low, F_DUPFD, 200);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  ServiceSpec spec = spec_named("fds");
  spec.ready.type = ReadyType::Fd;
  spec.ready.fd = 5;
  SpawnRequest request;
  request.ready_fd = ready[1];
  Finished done = run_service(spec, {kProbe, "fds"}, request);
  close(ready[1]);
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_EQ(done.output, "0\n1\n2\n5\n");
  close(ready[0]);
  close(bait_low);
  close(bait_high);

  ServiceSpec plain = spec_named("fds-plain");
  done = run_service(plain, {kProbe, "fds"});
  EXPECT_EQ(done.output, "0\n1\n2\n");
}

TEST(Spawn, ReadyFdSignalsTheParent) {
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  ServiceSpec spec = spec_named("ready");
  spec.ready.type = ReadyType::Fd;
  spec.ready.fd = 3;
  SpawnRequest request;
  request.ready_fd = ready[1];
  Finished done = run_service(spec, {"/bin/sh", "-c", "echo >&3"}, request);
  close(ready[1]);
  ASSERT_TRUE(done.result.ok());
  char c = 0;
  EXPECT_EQ(read(ready[0], &c, 1), 1);
  EXPECT_EQ(c, '\n');
  close(ready[0]);
}

TEST(Spawn, FallbackPathWorksWithoutACgroup) {
  ServiceSpec spec = spec_named("fallback");
  spec.isolation.namespaces = {Namespace::Uts, Namespace::Pid};
  SpawnRequest request;
  request.force_fallback = true;
  Finished done = run_service(spec, {"/bin/sh", "-c", "echo $$"}, request);
  ASSERT_TRUE(done.result.ok()) << done.result.stage;
  EXPECT_EQ(done.output, "1\n");
  EXPECT_GE(done.result.pidfd, 0);
}

}  // namespace
}  // namespace cairn::init
