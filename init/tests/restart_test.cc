// Restarts as PID 1: capped backoff and the start limit, readiness timeouts, OOM kills, and
// PID 1 surviving SIGKILLed services and storms of signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <thread>

#include "init/tests/harness.h"

namespace cairn::init::testing {
namespace {

using std::chrono::seconds;

TEST(Pid1Restart, BackoffDoublesThenTheStartLimitFails) {
  InitUnderTest init("backoff");
  ASSERT_TRUE(init.start());
  // 1 start + 4 restarts (burst 4), then failed.
  ASSERT_TRUE(init.wait_event("crash", "start", 5, seconds(60))) << init.console();
  ASSERT_TRUE(init.wait_console("start limit hit", seconds(30))) << init.console();
  auto starts = init.events_of("crash", "start");
  ASSERT_GE(starts.size(), 5u);
  // Delays 100, 200, 400, 400 ms (capped): each gap at least the delay; generous upper bound.
  const long long delays[] = {100, 200, 400, 400};
  for (size_t i = 0; i < 4; ++i) {
    long long gap = starts[i + 1].ms - starts[i].ms;
    EXPECT_GE(gap, delays[i] - 5) << "restart " << i + 1;
    EXPECT_LT(gap, delays[i] + 5000) << "restart " << i + 1;
  }
  // Failed means no more starts.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(init.count("crash", "start"), 5u);
  // The neighbour kept running, and the never-ready one failed on its readiness timeout.
  EXPECT_EQ(init.count("steady", "start"), 1u);
  ASSERT_TRUE(init.wait_console("not ready within 500 ms", seconds(30))) << init.console();
  EXPECT_EQ(init.count("slow", "start"), 1u);
  EXPECT_EQ(init.count("slow", "stop"), 1u) << "the readiness timeout sends the stop signal";
  EXPECT_TRUE(init.running());
}

TEST(Pid1Restart, SurvivesSigkillOfServicesAndSignalStorms) {
  InitUnderTest init("survive");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_event("storm", "storm 200", 1, seconds(60))) << init.console();
  ASSERT_TRUE(init.wait_event("orphaner", "orphans 200", 1, seconds(60))) << init.console();
  // From outside too: everything except the power signals of the documented map.
  for (int round = 0; round < 50; ++round) {
    for (int s : {SIGHUP, SIGCHLD, SIGWINCH, SIGALRM, SIGPIPE, SIGURG, SIGQUIT, SIGTSTP, SIGTTIN,
                  SIGTTOU, SIGCONT, SIGRTMIN, SIGRTMAX}) {
      init.signal(s);
    }
  }
  // SIGKILL the victim a few times: it comes back each time.
  for (size_t k = 1; k <= 3; ++k) {
    ASSERT_TRUE(init.wait_event("victim", "start", k)) << init.console();
    std::vector<pid_t> pids;
    ASSERT_TRUE(init.wait_for([&] { return !(pids = init.service_pids("victim")).empty(); }));
    for (pid_t p : pids) kill(p, SIGKILL);
    ASSERT_TRUE(init.wait_event("victim", "start", k + 1)) << init.console();
  }
  // Kill every other service once too (restart policy on-failure: they come back).
  for (const char* s : {"storm", "orphaner"}) {
    for (pid_t p : init.service_pids(s)) kill(p, SIGKILL);
  }
  ASSERT_TRUE(init.wait_event("storm", "start", 2)) << init.console();
  ASSERT_TRUE(init.wait_for([&] { return init.zombie_children() == 0; }, seconds(30)));
  EXPECT_TRUE(init.running()) << init.console();
  // Still answering: a clean shutdown on SIGTERM.
  init.signal(SIGTERM);
  EXPECT_NE(init.wait_exit(seconds(60)), -1) << init.console();
  EXPECT_NE(init.console().find("stopping services"), std::string::npos);
}

TEST(Pid1Restart, PowerSignalStormShutsDownOnce) {
  InitUnderTest init("survive");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_event("victim", "start")) << init.console();
  for (int i = 0; i < 100; ++i) init.signal(SIGUSR1);  // halt, a hundred times
  ASSERT_NE(init.wait_exit(seconds(60)), -1) << init.console();
  std::string console = init.console();
  size_t first = console.find("stopping services (then halt)");
  ASSERT_NE(first, std::string::npos) << console;
  EXPECT_EQ(console.find("stopping services", first + 1), std::string::npos) << console;
  EXPECT_EQ(init.count("victim", "stop"), 1u);
}

TEST(Pid1Restart, CgroupLimitsAreWrittenAndOomKillsReported) {
  if (!controller_available("memory")) {
    GTEST_SKIP() << "the memory controller is not available in cgroup v2 on this host "
                    "(hybrid hierarchy: memory/cpu/pids on cgroup v1); the qemu-labelled test "
                    "cairn_init_pid1_cgroup_in_vm runs this test in a pure-cgroup2 guest";
  }
  InitUnderTest init("oom");
  ASSERT_TRUE(init.start());
  ASSERT_TRUE(init.wait_event("hog", "start")) << init.console();
  std::string svc = init.cgroup() + "/cairn/hog";
  // With swap the hog would page out instead of hitting memory.max: no swap for it (it
  // sleeps 1 s before allocating).
  if (FILE* f = std::fopen((svc + "/memory.swap.max").c_str(), "w")) {
    std::fputs("0", f);
    std::fclose(f);
  }
  EXPECT_EQ(read_text(svc + "/memory.max"), "67108864\n");
  if (controller_available("pids")) {
    EXPECT_EQ(read_text(svc + "/pids.max"), "64\n");
  }
  if (controller_available("cpu")) {
    EXPECT_EQ(read_text(svc + "/cpu.weight"), "50\n");
  }
  ASSERT_TRUE(init.wait_console("OOM killer", seconds(60))) << init.console();
  EXPECT_EQ(init.count("hog", "alloc-done"), 0u);
  EXPECT_TRUE(init.running());
}

}  // namespace
}  // namespace cairn::init::testing
