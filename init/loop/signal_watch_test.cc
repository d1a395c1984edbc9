#include "init/loop/signal_watch.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace cairn::init {
namespace {

TEST(SignalWatch, DeliversBlockedSignalsThroughTheLoop) {
  EventLoop loop;
  SignalWatch watch(loop);
  int usr1 = 0, usr2 = 0;
  ASSERT_TRUE(watch.open({SIGUSR1, SIGUSR2}, [&](const signalfd_siginfo& info) {
    if (info.ssi_signo == SIGUSR1) ++usr1;
    if (info.ssi_signo == SIGUSR2) ++usr2;
  }));
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);  // blocked: would otherwise terminate the test
  ASSERT_EQ(kill(getpid(), SIGUSR2), 0);
  for (int i = 0; i < 10 && usr1 + usr2 < 2; ++i) loop.run_once(std::chrono::milliseconds(200));
  EXPECT_EQ(usr1, 1);
  EXPECT_EQ(usr2, 1);

  watch.close();
  sigset_t blocked;
  sigprocmask(SIG_BLOCK, nullptr, &blocked);
  EXPECT_FALSE(sigismember(&blocked, SIGUSR1));
}

TEST(SignalWatch, StormCoalescesAndNeverBlocks) {
  EventLoop loop;
  SignalWatch watch(loop);
  int seen = 0;
  ASSERT_TRUE(watch.open({SIGHUP}, [&](const signalfd_siginfo&) { ++seen; }));
  for (int i = 0; i < 1000; ++i) kill(getpid(), SIGHUP);
  loop.run_once(std::chrono::milliseconds(200));
  EXPECT_GE(seen, 1);
  EXPECT_LE(seen, 1000);
}

}  // namespace
}  // namespace cairn::init
