#include "init/system/reaper.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "init/system/fake_system_calls.h"

namespace cairn::init::system {
namespace {

using testing::FakeSystemCalls;

TEST(Reaper, ReapsUntilNothingIsLeftAndRespectsTheBound) {
  FakeSystemCalls sys;
  for (int i = 0; i < 5; ++i) sys.exits.push_back({100 + i, i << 8});
  sys.live_children = 1;
  std::vector<pid_t> seen;
  EXPECT_EQ(reap_children(
                sys, [&](pid_t p, int) { seen.push_back(p); }, 3),
            3u);
  EXPECT_EQ(reap_children(sys, [&](pid_t p, int) { seen.push_back(p); }), 2u);
  EXPECT_EQ(reap_children(sys, [&](pid_t p, int) { seen.push_back(p); }), 0u);
  EXPECT_EQ(seen, (std::vector<pid_t>{100, 101, 102, 103, 104}));
}

// Real children and orphans: as a child subreaper, grandchildren whose parent exited are
// reparented to us and reaped like our own children.
TEST(Reaper, RealChildrenAndOrphans) {
  pid_t helper = fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::map<pid_t, int> expected;
    for (int i = 0; i < 20; ++i) {
      pid_t c = fork();
      if (c == 0) _exit(i);
      expected[c] = i;
    }
    // 20 orphans: each middle process forks a grandchild and exits at once.
    for (int i = 0; i < 20; ++i) {
      pid_t m = fork();
      if (m == 0) {
        if (fork() == 0) {
          usleep(20'000);
          _exit(42);
        }
        _exit(0);
      }
    }
    size_t total = 0, orphans = 0;
    bool statuses_ok = true;
    for (int round = 0; round < 3000 && total < 60; ++round) {
      total += reap_children(real_system_calls(), [&](pid_t p, int status) {
        auto it = expected.find(p);
        if (it != expected.end() && WEXITSTATUS(status) != it->second) statuses_ok = false;
        if (WEXITSTATUS(status) == 42) ++orphans;
      });
      usleep(2'000);
    }
    int dummy;
    bool none_left = waitpid(-1, &dummy, WNOHANG) < 0 && errno == ECHILD;
    _exit(total == 60 && orphans == 20 && statuses_ok && none_left ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(helper, &status, 0), helper);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace cairn::init::system
