// Isolation as PID 1: namespaces and seccomp in effect inside a service, and no file
// descriptor of PID 1 leaking into services.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "init/tests/harness.h"

namespace cairn::init::testing {
namespace {

using std::chrono::seconds;

std::string field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return "";
}

std::set<std::string> fds(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("fd ", 0) == 0) out.insert(line.substr(3, line.find(' ', 3) - 3));
  }
  return out;
}

std::string ns_of(pid_t pid, const char* ns) {
  char buf[128];
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + ns;
  ssize_t n = readlink(path.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "?";
}

TEST(Pid1Isolation, NamespacesSeccompAndNoLeakedFds) {
  InitUnderTest init("isolation");
  // Operator flags file: appended to exec at start (here: two harmless extra actions).
  std::ofstream(init.dir() + "/notified.args") << "# comment\nsleep\n\n  10  \n";
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_console("node ready in", seconds(60))) << init.console();
  ASSERT_TRUE(init.wait_event("boxed", "inspected")) << init.console();

  std::string boxed = read_text(init.dir() + "/boxed.inspect");
  ASSERT_FALSE(boxed.empty()) << init.console();
  for (const char* ns : {"mnt", "pid", "ipc", "uts", "net", "cgroup"}) {
    std::string inside = field(boxed, std::string("ns ") + ns + " ");
    EXPECT_NE(inside, ns_of(init.init_pid(), ns)) << ns << " namespace shared with PID 1";
  }
  EXPECT_EQ(field(boxed, "hostname "), "boxed-host");
  EXPECT_EQ(field(boxed, "pid "), "1") << "first process of its own PID namespace";
  EXPECT_EQ(field(boxed, "Seccomp:\t"), "2") << boxed;
  EXPECT_EQ(field(boxed, "NoNewPrivs:\t"), "1") << boxed;
  EXPECT_EQ(field(boxed, "syslog "), "1") << "syslog(2) should fail with EPERM under the "
                                             "default profile\n"
                                          << boxed;
  EXPECT_EQ(fds(boxed), (std::set<std::string>{"0", "1", "2"})) << boxed;

  std::string notified = read_text(init.dir() + "/notified.inspect");
  EXPECT_EQ(fds(notified), (std::set<std::string>{"0", "1", "2"})) << notified;
  EXPECT_EQ(field(notified, "Seccomp:\t"), "0");
  EXPECT_EQ(field(notified, "env GREETING="), "hello from the service file") << notified;
  EXPECT_NE(field(notified, "env PATH="), "") << notified;
  EXPECT_NE(notified.find("arg notify-ready\narg sleep\narg 10\n"), std::string::npos) << notified;
  std::string fdready = read_text(init.dir() + "/fdready.inspect");
  EXPECT_EQ(fds(fdready), (std::set<std::string>{"0", "1", "2", "5"})) << fdready;
}

}  // namespace
}  // namespace cairn::init::testing
