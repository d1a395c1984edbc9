#include "init/config/service_file.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace cairn::init {
namespace {

ParsedService parse(const std::string& text) {
  return parse_service(text, "svc.toml", "svc");
}

std::string errors(const ParsedService& p) {
  return to_string(p.diagnostics);
}

TEST(ServiceFile, DesignExampleParses) {
  auto p = parse(R"(
description = "dqlite datastore with an etcd v3 API"
exec = ["/usr/bin/cairn-datastore", "--data-dir", "/var/lib/cairn/datastore"]
args-file = "/var/lib/cairn/args/datastore"
requires = ["var-mounted"]
after = ["network"]
environment = { GOMAXPROCS = "2", LANG = "C.UTF-8" }
user = "cairn"
group = "cairn"
working-directory = "/var/lib/cairn"
[ready]
type = "notify"
timeout = "30s"
[restart]
policy = "always"
delay = "100ms"
max-delay = "30s"
burst = 5
interval = "60s"
[stop]
signal = "SIGINT"
timeout = "20s"
[resources]
memory-max = "1G"
memory-high = "768M"
cpu-weight = 200
cpu-max = "50000 100000"
pids-max = 4096
io-weight = 50
[isolation]
namespaces = ["mount", "ipc", "uts"]
no-new-privileges = true
capabilities = ["CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN"]
ambient-capabilities = ["CAP_NET_BIND_SERVICE"]
seccomp = "default"
seccomp-allow = ["ptrace"]
seccomp-deny = ["mount"]
read-only-paths = ["/"]
private-paths = ["/tmp"]
hostname = "datastore"
rlimits = { nofile = "1024:4096", core = 0, memlock = "infinity" }
[log]
max-file-size = "4M"
max-files = 5
ring-size = "128K"
)");
  ASSERT_TRUE(p.valid()) << errors(p);
  const auto& s = p.spec;
  EXPECT_EQ(s.name, "svc");
  EXPECT_EQ(s.file, "svc.toml");
  EXPECT_EQ(s.description, "dqlite datastore with an etcd v3 API");
  EXPECT_EQ(s.exec.size(), 3u);
  EXPECT_EQ(s.args_file, "/var/lib/cairn/args/datastore");
  EXPECT_EQ(s.required, std::vector<std::string>{"var-mounted"});
  EXPECT_EQ(s.after, std::vector<std::string>{"network"});
  ASSERT_EQ(s.environment.size(), 2u);
  EXPECT_EQ(s.environment[0], (std::pair<std::string, std::string>{"GOMAXPROCS", "2"}));
  EXPECT_EQ(s.user, "cairn");
  EXPECT_EQ(s.group, "cairn");
  EXPECT_EQ(s.working_directory, "/var/lib/cairn");
  EXPECT_EQ(s.ready.type, ReadyType::Notify);
  EXPECT_EQ(s.ready.timeout, Duration(30'000));
  EXPECT_EQ(s.restart.policy, RestartPolicy::Always);
  EXPECT_EQ(s.restart.delay, Duration(100));
  EXPECT_EQ(s.restart.max_delay, Duration(30'000));
  EXPECT_EQ(s.restart.burst, 5);
  EXPECT_EQ(s.restart.interval, Duration(60'000));
  EXPECT_EQ(s.stop.signal, SIGINT);
  EXPECT_EQ(s.stop.timeout, Duration(20'000));
  EXPECT_EQ(s.resources.memory_max, 1ull << 30);
  EXPECT_EQ(s.resources.memory_high, 768ull << 20);
  EXPECT_EQ(s.resources.cpu_weight, 200u);
  ASSERT_TRUE(s.resources.cpu_max);
  EXPECT_EQ(s.resources.cpu_max->quota_us, 50'000u);
  EXPECT_EQ(s.resources.cpu_max->period_us, 100'000u);
  EXPECT_EQ(s.resources.pids_max, 4096u);
  EXPECT_EQ(s.resources.io_weight, 50u);
  EXPECT_EQ(s.isolation.namespaces,
            (std::vector<Namespace>{Namespace::Mount, Namespace::Ipc, Namespace::Uts}));
  EXPECT_TRUE(s.isolation.no_new_privileges);
  EXPECT_EQ(s.isolation.capabilities, (std::vector<int>{CAP_NET_BIND_SERVICE, CAP_NET_ADMIN}));
  EXPECT_EQ(s.isolation.ambient_capabilities, std::vector<int>{CAP_NET_BIND_SERVICE});
  EXPECT_EQ(s.isolation.seccomp, "default");
  EXPECT_EQ(s.isolation.seccomp_allow, std::vector<std::string>{"ptrace"});
  EXPECT_EQ(s.isolation.seccomp_deny, std::vector<std::string>{"mount"});
  EXPECT_EQ(s.isolation.read_only_paths, std::vector<std::string>{"/"});
  EXPECT_EQ(s.isolation.private_paths, std::vector<std::string>{"/tmp"});
  EXPECT_EQ(s.isolation.hostname, "datastore");
  ASSERT_EQ(s.isolation.rlimits.size(), 3u);  // table order: core, memlock, nofile
  EXPECT_EQ(s.isolation.rlimits[0].resource, RLIMIT_CORE);
  EXPECT_EQ(s.isolation.rlimits[0].hard, 0u);
  EXPECT_EQ(s.isolation.rlimits[1].soft, RLIM_INFINITY);
  EXPECT_EQ(s.isolation.rlimits[2].resource, RLIMIT_NOFILE);
  EXPECT_EQ(s.isolation.rlimits[2].soft, 1024u);
  EXPECT_EQ(s.isolation.rlimits[2].hard, 4096u);
  EXPECT_EQ(s.log.max_file_bytes, 4u << 20);
  EXPECT_EQ(s.log.max_files, 5);
  EXPECT_EQ(s.log.ring_bytes, 128u << 10);
  ASSERT_EQ(p.refs.size(), 2u);
  EXPECT_EQ(p.refs[0].kind, ServiceRef::Kind::Requires);
  EXPECT_EQ(p.refs[0].line, 5);
  EXPECT_EQ(p.refs[0].column, 13);
}

TEST(ServiceFile, MinimalHasDocumentedDefaults) {
  auto p = parse("exec = [\"/bin/true\"]\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  ServiceSpec defaults;
  EXPECT_TRUE(p.spec.enabled);
  EXPECT_EQ(p.spec.ready.type, ReadyType::None);
  EXPECT_EQ(p.spec.restart.policy, defaults.restart.policy);
  EXPECT_EQ(p.spec.stop.signal, SIGTERM);
  EXPECT_FALSE(p.spec.isolation.capabilities);
  EXPECT_FALSE(p.spec.resources.memory_max);
  EXPECT_FALSE(p.spec.is_group());
}

// burst = 0 is "no start limit" (systemd's StartLimitBurst=0), not an error.
TEST(ServiceFile, BurstZeroDisablesTheStartLimit) {
  auto p = parse("exec = [\"/x\"]\n[restart]\nburst = 0\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(p.spec.restart.burst, 0);
}

TEST(ServiceFile, GroupWithMembers) {
  auto p = parse(
      "description = \"kubelite\"\n"
      "requires = [\"datastore\"]\n"
      "members = [\"kube-apiserver\", \"kubelet\"]\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_TRUE(p.spec.is_group());
  EXPECT_TRUE(p.spec.exec.empty());
  EXPECT_EQ(p.spec.members, (std::vector<std::string>{"kube-apiserver", "kubelet"}));
}

TEST(ServiceFile, EmptyCapabilitiesMeansDropAll) {
  auto p = parse("exec = [\"/bin/true\"]\n[isolation]\ncapabilities = []\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  ASSERT_TRUE(p.spec.isolation.capabilities);
  EXPECT_TRUE(p.spec.isolation.capabilities->empty());
}

TEST(ServiceFile, ReadyVariants) {
  auto p = parse(
      "exec = [\"/bin/x\"]\n[ready]\ntype = \"socket\"\nsocket = \"tcp:127.0.0.1:8080\"\n"
      "interval = \"50ms\"\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(p.spec.ready.socket, "tcp:127.0.0.1:8080");
  EXPECT_EQ(p.spec.ready.interval, Duration(50));
  p = parse("exec = [\"/bin/x\"]\n[ready]\ntype = \"exec\"\ncheck = [\"/bin/probe\", \"-q\"]\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(p.spec.ready.check.size(), 2u);
  p = parse("exec = [\"/bin/x\"]\n[ready]\ntype = \"fd\"\nfd = 5\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(p.spec.ready.fd, 5);
}

TEST(ServiceFile, CpuMaxForms) {
  auto p = parse(
      "exec = [\"/bin/x\"]\n[resources]\ncpu-max = \"max\"\nmemory-max = \"max\"\n"
      "pids-max = \"max\"\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  ASSERT_TRUE(p.spec.resources.cpu_max);
  EXPECT_EQ(p.spec.resources.cpu_max->quota_us, 0u);
  EXPECT_FALSE(p.spec.resources.memory_max);
  EXPECT_FALSE(p.spec.resources.pids_max);
  p = parse("exec = [\"/bin/x\"]\n[resources]\ncpu-max = \"20000\"\nmemory-max = 1048576\n");
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(p.spec.resources.cpu_max->quota_us, 20'000u);
  EXPECT_EQ(p.spec.resources.cpu_max->period_us, 100'000u);
  EXPECT_EQ(p.spec.resources.memory_max, 1u << 20);
}

// Each bad file: the exact "line:col: error: message" substring expected.
struct BadCase {
  const char* text;
  const char* expected;
};

TEST(ServiceFile, BadInputNamesPositionAndReason) {
  const BadCase cases[] = {
      {"exec = [\"/bin/x\"\n", "svc.toml:1:"},
      {"", "svc.toml: error: missing exec"},
      {"exec = \"/bin/x\"\n",
       "svc.toml:1:8: error: exec: expected an array of strings, got a string"},
      {"exec = []\n", "svc.toml:1:8: error: exec: must name a program"},
      {"exec = [\"bin/x\"]\n",
       "svc.toml:1:8: error: exec: the program path \"bin/x\" is not absolute"},
      {"exec = [\"/x\", 3]\n",
       "svc.toml:1:15: error: exec: expected an array of strings, but an element is an integer"},
      {"exec = [\"/x\"]\nexce = 1\n",
       "svc.toml:2:1: error: unknown key \"exce\"; did you mean \"exec\"?"},
      {"exec = [\"/x\"]\nenabled = \"yes\"\n",
       "svc.toml:2:11: error: enabled: expected true or false, got a string"},
      {"exec = [\"/x\"]\nrequires = [\"a b\"]\n",
       "svc.toml:2:13: error: requires: service name \"a b\" may only contain"},
      {"exec = [\"/x\"]\nrequires = [\"svc\"]\n",
       "svc.toml:2:13: error: requires: a service cannot name itself"},
      {"exec = [\"/x\"]\nafter = [\"a\", \"a\"]\n",
       "svc.toml:2:15: error: after: \"a\" is listed twice"},
      {"exec = [\"/x\"]\nargs-file = \"relative\"\n",
       "svc.toml:2:13: error: args-file: path \"relative\" is not absolute"},
      {"exec = [\"/x\"]\nworking-directory = \"\"\n", "working-directory: path is empty"},
      {"exec = [\"/x\"]\nuser = \"a:b\"\n",
       "svc.toml:2:8: error: user: \"a:b\" is not a valid user"},
      {"exec = [\"/x\"]\n[environment]\n1A = \"x\"\n",
       "svc.toml:3:1: error: environment.1A: not a valid environment variable name"},
      {"exec = [\"/x\"]\n[environment]\nA = 1\n",
       "svc.toml:3:5: error: environment.A: expected a string, got an integer"},
      {"exec = [\"/x\"]\nready = 1\n",
       "svc.toml:2:9: error: ready: expected a table, got an integer"},
      {"exec = [\"/x\"]\n[ready]\ntype = \"sd\"\n",
       "svc.toml:3:8: error: ready.type: unknown readiness type \"sd\""},
      {"exec = [\"/x\"]\n[ready]\ntimeout = \"30\"\n",
       "svc.toml:3:11: error: ready.timeout: duration \"30\" needs a unit"},
      {"exec = [\"/x\"]\n[ready]\ntimeout = \"0s\"\n", "ready.timeout: must be greater than zero"},
      {"exec = [\"/x\"]\n[ready]\ntype = \"socket\"\n",
       "ready.type: type = \"socket\" needs socket"},
      {"exec = [\"/x\"]\n[ready]\ntype = \"socket\"\nsocket = \"http://x\"\n",
       "svc.toml:4:10: error: ready.socket: expected \"unix:"},
      {"exec = [\"/x\"]\n[ready]\ntype = \"socket\"\nsocket = \"tcp:x:99999\"\n",
       "ready.socket: expected \"tcp:HOST:PORT\""},
      {"exec = [\"/x\"]\n[ready]\nsocket = \"unix:/run/x.sock\"\n",
       "svc.toml:3:10: error: ready.socket: is only used with type = \"socket\""},
      {"exec = [\"/x\"]\n[ready]\ntype = \"exec\"\n", "ready.type: type = \"exec\" needs check"},
      {"exec = [\"/x\"]\n[ready]\ntype = \"fd\"\nfd = 1\n",
       "svc.toml:4:6: error: ready.fd: value 1 is out of range 3..1023"},
      {"exec = [\"/x\"]\n[restart]\npolicy = \"sometimes\"\n",
       "svc.toml:3:10: error: restart.policy: unknown policy \"sometimes\""},
      {"exec = [\"/x\"]\n[restart]\ndelay = \"10s\"\nmax-delay = \"1s\"\n",
       "restart.max-delay: max-delay (1.000s) is shorter than delay (10.000s)"},
      {"exec = [\"/x\"]\n[restart]\nburst = -1\n",
       "svc.toml:3:9: error: restart.burst: value -1 is out of range 0..10000"},
      {"exec = [\"/x\"]\n[stop]\nsignal = \"SIGFOO\"\n",
       "svc.toml:3:10: error: stop.signal: unknown signal \"SIGFOO\""},
      {"exec = [\"/x\"]\n[resources]\nmemory-max = \"1GB\"\n",
       "svc.toml:3:14: error: resources.memory-max: unknown size unit \"GB\""},
      {"exec = [\"/x\"]\n[resources]\nmemory-max = \"1M\"\nmemory-high = \"2M\"\n",
       "resources.memory-high: is above memory-max"},
      {"exec = [\"/x\"]\n[resources]\ncpu-weight = 0\n",
       "resources.cpu-weight: value 0 is out of range 1..10000"},
      {"exec = [\"/x\"]\n[resources]\ncpu-max = \"50%\"\n",
       "resources.cpu-max: expected \"QUOTA PERIOD\""},
      {"exec = [\"/x\"]\n[resources]\ncpu-max = \"5000 10\"\n",
       "cpu-max period must be 1000..1000000"},
      {"exec = [\"/x\"]\n[resources]\npids-max = -1\n",
       "resources.pids-max: value -1 is out of range"},
      {"exec = [\"/x\"]\n[resources]\nmemory-maxx = \"1G\"\n",
       "unknown key \"memory-maxx\" in [resources]; did you mean \"memory-max\"?"},
      {"exec = [\"/x\"]\n[isolation]\nnamespaces = [\"user\"]\n",
       "svc.toml:3:15: error: isolation.namespaces: unknown namespace \"user\""},
      {"exec = [\"/x\"]\n[isolation]\nnamespaces = [\"pid\", \"pid\"]\n",
       "isolation.namespaces: \"pid\" is listed twice"},
      {"exec = [\"/x\"]\n[isolation]\ncapabilities = [\"CAP_FLY\"]\n",
       "svc.toml:3:17: error: isolation.capabilities: unknown capability \"CAP_FLY\""},
      {"exec = [\"/x\"]\n[isolation]\ncapabilities = [\"net_admin\"]\n",
       "unknown capability \"net_admin\""},
      {"exec = [\"/x\"]\n[isolation]\ncapabilities = []\nambient-capabilities = "
       "[\"CAP_NET_ADMIN\"]\n",
       "cap_net_admin is not in `capabilities`"},
      {"exec = [\"/x\"]\n[isolation]\nseccomp = \"strict\"\n",
       "isolation.seccomp: unknown profile \"strict\""},
      {"exec = [\"/x\"]\n[isolation]\nseccomp = \"default\"\nseccomp-deny = [\"notasyscall\"]\n",
       "svc.toml:4:17: error: isolation.seccomp-deny: unknown system call \"notasyscall\""},
      {"exec = [\"/x\"]\n[isolation]\nseccomp-allow = [\"ptrace\"]\n",
       "isolation.seccomp-allow: needs seccomp = \"default\""},
      {"exec = [\"/x\"]\n[isolation]\nread-only-paths = [\"/usr\"]\n",
       "isolation.read-only-paths: needs \"mount\" in namespaces"},
      {"exec = [\"/x\"]\n[isolation]\nnamespaces = [\"mount\"]\nprivate-paths = [\"tmp\"]\n",
       "isolation.private-paths: path \"tmp\" is not absolute"},
      {"exec = [\"/x\"]\n[isolation]\nhostname = \"box\"\n", "isolation.hostname: needs \"uts\""},
      {"exec = [\"/x\"]\n[isolation]\nnamespaces = [\"uts\"]\nhostname = \"a_b\"\n",
       "hostname \"a_b\" may only contain"},
      {"exec = [\"/x\"]\n[isolation.rlimits]\nnofile = \"4096:1024\"\n",
       "svc.toml:3:10: error: isolation.rlimits.nofile: the soft limit is above the hard limit"},
      {"exec = [\"/x\"]\n[isolation.rlimits]\nnofile = \"lots\"\n",
       "isolation.rlimits.nofile: expected \"SOFT:HARD\""},
      {"exec = [\"/x\"]\n[isolation.rlimits]\nnofiles = 5\n",
       "unknown key \"nofiles\" in [isolation.rlimits]; did you mean \"nofile\"?"},
      {"exec = [\"/x\"]\n[log]\nmax-files = 0\n", "log.max-files: value 0 is out of range 1..100"},
      {"exec = [\"/x\"]\n[log]\nring-size = \"1G\"\n",
       "log.ring-size: must be between 1.0K and 16M"},
      {"exec = [\"/x\"]\nmembers = [\"a\"]\n",
       "svc.toml:1:8: error: exec: a group (a service with members) runs no process"},
      {"members = []\n", "members: a group needs at least one member"},
  };
  for (const auto& c : cases) {
    auto p = parse(c.text);
    EXPECT_FALSE(p.valid()) << c.text;
    EXPECT_NE(errors(p).find(c.expected), std::string::npos)
        << "input:\n"
        << c.text << "\nexpected: " << c.expected << "\ngot: " << errors(p);
  }
}

TEST(ServiceFile, ReportsEveryErrorNotJustTheFirst) {
  auto p = parse("exec = [\"x\"]\nbogus = 1\n[restart]\npolicy = \"no\"\n");
  EXPECT_EQ(p.diagnostics.size(), 3u) << errors(p);
}

TEST(ServiceFile, BadFileName) {
  auto p = parse_service("exec = [\"/x\"]\n", "/d/bad name.toml", "bad name");
  EXPECT_FALSE(p.valid());
  EXPECT_NE(errors(p).find("file name gives an invalid service name"), std::string::npos);
}

TEST(ServiceFile, FileNameGivesServiceName) {
  auto p = parse_service_file("/nonexistent/dir/web-1.toml");
  EXPECT_EQ(p.spec.name, "web-1");
  EXPECT_FALSE(p.valid());
  EXPECT_NE(errors(p).find("/nonexistent/dir/web-1.toml: error: cannot read"), std::string::npos);
}

}  // namespace
}  // namespace cairn::init
