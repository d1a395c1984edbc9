// cairn-init as PID 1 of a PID+mount namespace: start order, readiness of every type,
// groups, invalid files, reaping orphans, and `--check`.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "init/tests/harness.h"

namespace cairn::init::testing {
namespace {

using std::chrono::seconds;

TEST(Pid1Boot, DependencyAndReadinessOrderingForEveryReadyType) {
  InitUnderTest init("order");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_console("node ready in", seconds(60))) << init.console();
  // late (ready type none) is ready at spawn: its own first line may come a moment later.
  ASSERT_TRUE(init.wait_event("late", "start")) << init.console();
  // Each dependent starts only after what it requires reported ready.
  for (auto [before, after] : {std::pair{"db", "api"},
                               {"api", "web"},
                               {"web", "worker"},
                               {"worker", "tcp"},
                               {"tcp", "late"},
                               {"worker", "late"}}) {
    long long ready = init.first(before, "ready");
    long long started = init.first(after, "start");
    ASSERT_GT(ready, 0) << before << " never ready\n" << init.console();
    ASSERT_GT(started, 0) << after << " never started\n" << init.console();
    EXPECT_LE(ready, started) << before << " ready at " << ready << ", " << after << " started at "
                              << started;
  }
  for (const char* s : {"db", "api", "web", "worker", "tcp", "late"}) {
    EXPECT_EQ(init.count(s, "start"), 1u) << s << " restarted\n" << init.console();
  }
  std::string console = init.console();
  const std::string ready_line = "cairn-init: node ready in ";
  size_t line = console.find(ready_line);
  ASSERT_NE(line, std::string::npos);
  EXPECT_EQ(console.find("node ready in", line + ready_line.size()), std::string::npos)
      << "printed twice";
  EXPECT_NE(console.find("cairn-init: timeline db started"), std::string::npos) << console;
  EXPECT_NE(console.find("cairn-init: timeline late started"), std::string::npos) << console;
}

TEST(Pid1Boot, GroupStartsMembersInOrderAndStopsThemInReverse) {
  InitUnderTest init("group");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_event("user", "start", 1, seconds(60))) << init.console();
  EXPECT_LE(init.first("first", "ready"), init.first("second", "start"));
  EXPECT_LE(init.first("second", "ready"), init.first("third", "start"));
  // third has ready type none (ready at spawn), so user may run its first line before third
  // does; what user must wait for is every member's declared readiness.
  EXPECT_GT(init.first("third", "start"), 0);
  EXPECT_LE(init.first("second", "ready"), init.first("user", "start"));
  ASSERT_TRUE(init.wait_console("node ready in"));
  ASSERT_TRUE(init.wait_event("third", "start"));
  init.signal(SIGTERM);
  ASSERT_NE(init.wait_exit(seconds(60)), -1) << init.console();
  long long user = init.first("user", "stop"), third = init.first("third", "stop");
  long long second = init.first("second", "stop"), first = init.first("first", "stop");
  ASSERT_GT(first, 0) << init.console();
  // Each stop takes 100 ms (--term slow:100): strictly one after the other.
  EXPECT_LT(user, third);
  EXPECT_LT(third, second);
  EXPECT_LT(second, first);
}

TEST(Pid1Boot, InvalidFilesAreReportedAndNeverBlockOthers) {
  InitUnderTest init("invalid");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_event("fine", "start")) << init.console();
  ASSERT_TRUE(init.wait_console("missing-binary")) << init.console();
  std::string console = init.console();
  EXPECT_NE(console.find("broken.toml:2:8"), std::string::npos) << console;
  EXPECT_EQ(init.count("needs-broken", "start"), 0u);
  EXPECT_NE(console.find("needs-broken"), std::string::npos) << console;
  // A binary that does not exist fails its start with the reason, PID 1 goes on.
  ASSERT_TRUE(init.wait_console("No such file or directory")) << init.console();
  EXPECT_TRUE(init.running());
}

TEST(Pid1Boot, ReapsAThousandOrphansLeavingNoZombie) {
  InitUnderTest init("orphans");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_event("maker", "orphans 1000", 1, seconds(120))) << init.console();
  // The orphans exit ~50 ms after being made; PID 1 must reap every one of them.
  bool clean = init.wait_for(
      [&] {
        auto children = init.init_children();
        return init.zombie_children() == 0 && children.size() <= 1;  // only the maker
      },
      seconds(60));
  EXPECT_TRUE(clean) << init.init_children().size() << " children, " << init.zombie_children()
                     << " zombies";
  EXPECT_TRUE(init.running());
}

TEST(CheckMode, ValidatesWithoutRunning) {
  std::string cmd = std::string(CAIRN_INIT) + " --check " + CAIRN_FIXTURES + "/invalid";
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 1) << out;
  EXPECT_NE(out.find("broken.toml:2:8: error:"), std::string::npos) << out;
}

}  // namespace
}  // namespace cairn::init::testing
