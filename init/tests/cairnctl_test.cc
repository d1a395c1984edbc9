// cairn-init observed and driven through cairnctl over its control socket, as PID 1.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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
  // a's sd_notify STATUS= text and the time it entered its state, in the table and the JSON.
  EXPECT_NE(status.text.find("\"all good\""), std::string::npos) << status.text;
  EXPECT_NE(status.text.find("SINCE"), std::string::npos) << status.text;
  std::string json = cairnctl(init, "status --json").text;
  EXPECT_NE(json.find("\"status_text\": \"all good\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"since_ms\": "), std::string::npos) << json;
  EXPECT_NE(json.find("\"group\": null"), std::string::npos) << json;

  // logs --tail N: only the last N lines of the ring (cairn-init's own log has many more).
  // (--tail first: lines logged in between only make the full ring longer.)
  Output two = cairnctl(init, "logs cairn-init --tail 2");
  Output all = cairnctl(init, "logs cairn-init");
  EXPECT_EQ(two.status, 0) << two.text;
  auto lines = [](const std::string& text) {
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  };
  EXPECT_GT(lines(all.text), 2u) << all.text;
  ASSERT_EQ(lines(two.text), 2u) << two.text;
  EXPECT_NE(all.text.find(two.text), std::string::npos) << "not the end of the ring:\n" << two.text;

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
  // systemd-notify's STATUS= reaches `cairnctl status`.
  EXPECT_NE(cairnctl(init, "status --json").text.find("\"status_text\": \"up via systemd-notify\""),
            std::string::npos)
      << cairnctl(init, "status --json").text;
}

}  // namespace
}  // namespace cairn::init::testing
