// Ordered shutdown: reverse dependency order, each service within its stop timeout (SIGKILL
// of its whole cgroup after it), as PID 1 and in development mode.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "init/tests/harness.h"

namespace cairn::init::testing {
namespace {

using std::chrono::seconds;

// Ready type none means ready at spawn: wait until each has installed its SIGTERM handler
// (it records "start" right after).
void wait_all_started(const InitUnderTest& init) {
  for (const char* s : {"base", "middle", "top", "stubborn"}) {
    ASSERT_TRUE(init.wait_event(s, "start")) << s << "\n" << init.console();
  }
}

void expect_reverse_order(const InitUnderTest& init) {
  long long top = init.first("top", "stop"), middle = init.first("middle", "stop");
  long long base = init.first("base", "stop"), stubborn = init.first("stubborn", "stop");
  ASSERT_GT(base, 0) << init.console();
  ASSERT_GT(stubborn, 0) << init.console();
  // Each takes 200 ms to stop (--term slow:200), so the order is strict.
  EXPECT_LT(top, middle);
  EXPECT_LT(middle, base);
  // stubborn (after base) ignores SIGTERM: SIGKILL after its 1 s stop timeout, then base.
  EXPECT_LT(stubborn, base);
  EXPECT_GE(base - stubborn, 900) << "base must wait for stubborn's stop timeout";
  EXPECT_LT(base - stubborn, 10'000);
}

TEST(Pid1Shutdown, ReverseDependencyOrderWithinStopTimeouts) {
  InitUnderTest init("shutdown");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_console("node ready in", seconds(60))) << init.console();
  wait_all_started(init);
  auto t0 = std::chrono::steady_clock::now();
  init.signal(SIGTERM);
  int status = init.wait_exit(seconds(60));
  ASSERT_NE(status, -1) << init.console();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(30));
  expect_reverse_order(init);
  std::string console = init.console();
  EXPECT_NE(console.find("SIGKILL"), std::string::npos) << console;
  // Nothing survives: the stubborn child was in the stubborn service's cgroup.
  EXPECT_NE(read_text(init.cgroup() + "/cgroup.events").find("populated 0"), std::string::npos);
}

TEST(DevMode, SigtermStopsEverythingInOrderAndExitsZero) {
  InitUnderTest init("shutdown", InitUnderTest::Mode::Dev);
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_console("node ready in", seconds(60))) << init.console();
  wait_all_started(init);
  EXPECT_NE(init.console().find("development mode"), std::string::npos);
  init.signal(SIGTERM);
  int status = init.wait_exit(seconds(60));
  ASSERT_NE(status, -1) << init.console();
  EXPECT_TRUE(WIFEXITED(status)) << init.console();
  EXPECT_EQ(WEXITSTATUS(status), 0) << init.console();
  expect_reverse_order(init);
}

TEST(DevMode, RejectsUnknownArguments) {
  FILE* p = popen((std::string(CAIRN_INIT) + " --bogus 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  buf[n] = '\0';
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(std::string(buf).find("unknown argument '--bogus'"), std::string::npos) << buf;
}

}  // namespace
}  // namespace cairn::init::testing
