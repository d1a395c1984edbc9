// cairn-init observed and driven through cairnctl over its control socket, as PID 1.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "init/tests/harness.h"

namespace cairn::init::testing {
namespace {

using std::chrono::seconds;

struct Output {
  int status = -1;
  std::string text;
};

Output cairnctl(const InitUnderTest& init, const std::string& args) {
  std::string cmd =
      std::string(CAIRN_CTL) + " --socket " + init.dir() + "/control.sock " + args + " 2>&1";
  Output out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.text.append(buf, n);
  int status = pclose(p);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The "state" of one service in `status --json` ("" if not found).
std::string state_of(const InitUnderTest& init, const std::string& name) {
  std::string json = cairnctl(init, "status --json").text;
  size_t at = json.find("\"name\": \"" + name + "\"");
  if (at == std::string::npos) return "";
  size_t state = json.find("\"state\": \"", at);
  if (state == std::string::npos) return "";
  state += 10;
  return json.substr(state, json.find('"', state) - state);
}

TEST(Cairnctl, StatusStopStartReloadTimelineAndPoweroff) {
  InitUnderTest init("control");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_event("b", "start")) << init.console();
  ASSERT_TRUE(init.wait_for([&] { return state_of(init, "doomed") == "failed"; }))
      << cairnctl(init, "status").text;
  EXPECT_EQ(state_of(init, "a"), "ready");
  EXPECT_EQ(state_of(init, "b"), "ready");
  Output status = cairnctl(init, "status");
  EXPECT_NE(status.text.find("exited with status 7"), std::string::npos) << status.text;

  // Stopping a stops b (which requires it) first.
  Output stop = cairnctl(init, "stop a");
  EXPECT_EQ(stop.status, 0) << stop.text;
  ASSERT_TRUE(init.wait_for([&] { return state_of(init, "a") == "stopped"; })) << init.console();
  EXPECT_EQ(state_of(init, "b"), "stopped");
  EXPECT_LT(init.first("b", "stop"), init.first("a", "stop"));

  // Starting b brings a back first.
  EXPECT_EQ(cairnctl(init, "start b").status, 0);
  ASSERT_TRUE(init.wait_event("b", "start", 2)) << init.console();
  EXPECT_LE(init.events_of("a", "ready").back().ms, init.events_of("b", "start").back().ms);
  EXPECT_NE(cairnctl(init, "start nosuch").status, 0);

  // Reload: a new file is added and started, the others are unchanged.
  std::ofstream(init.dir() + "/services/c.toml")
      << "exec = [\"" << CAIRN_TEST_SERVICE << "\", \"--name\", \"c\", \"--record\", \""
      << init.dir() << "/record\"]\n";
  Output reload = cairnctl(init, "reload");
  EXPECT_EQ(reload.status, 0) << reload.text;
  EXPECT_NE(reload.text.find("c"), std::string::npos) << reload.text;
  ASSERT_TRUE(init.wait_event("c", "start")) << init.console();
  EXPECT_EQ(init.count("a", "start"), 2u);

  Output timeline = cairnctl(init, "timeline");
  EXPECT_EQ(timeline.status, 0) << timeline.text;
  EXPECT_NE(timeline.text.find("doomed"), std::string::npos) << timeline.text;

  // poweroff: every service stops in order, then the namespace ends.
  EXPECT_EQ(cairnctl(init, "poweroff").status, 0);
  ASSERT_NE(init.wait_exit(seconds(60)), -1) << init.console();
  EXPECT_LT(init.events_of("b", "stop").back().ms, init.events_of("a", "stop").back().ms);
  EXPECT_NE(init.console().find("stopping services (then poweroff)"), std::string::npos);
}

}  // namespace
}  // namespace cairn::init::testing

namespace cairn::init::testing {
namespace {

TEST(Cairnctl, UnmodifiedSdNotifyClientReportsReadiness) {
  if (access("/usr/bin/systemd-notify", X_OK) != 0 && access("/bin/systemd-notify", X_OK) != 0) {
    GTEST_SKIP() << "systemd-notify is not installed";
  }
  InitUnderTest init("sdnotify");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_console("node ready in", std::chrono::seconds(60))) << init.console();
  EXPECT_EQ(state_of(init, "daemon"), "ready");
  // (STATUS= is kept in ServiceStatus::status_text; cairnctl does not show it yet.)
}

}  // namespace
}  // namespace cairn::init::testing
