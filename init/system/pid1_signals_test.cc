#include "init/system/pid1_signals.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

namespace cairn::init::system {
namespace {

TEST(Pid1Signals, TheDocumentedMap) {
  struct Row {
    int signo;
    SignalAction action;
  } rows[] = {
      {SIGINT, SignalAction::Reboot},   {SIGTERM, SignalAction::Reboot},
      {SIGUSR1, SignalAction::Halt},    {SIGUSR2, SignalAction::Poweroff},
      {SIGPWR, SignalAction::Poweroff}, {SIGHUP, SignalAction::Reload},
      {SIGCHLD, SignalAction::Reap},    {SIGQUIT, SignalAction::Ignore},
      {SIGPIPE, SignalAction::Ignore},  {SIGALRM, SignalAction::Ignore},
      {SIGWINCH, SignalAction::Ignore}, {SIGRTMIN + 4, SignalAction::Ignore},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(signal_action(r.signo), r.action) << strsignal(r.signo);
  }
  PowerAction p;
  ASSERT_TRUE(signal_power_action(SIGINT, p));
  EXPECT_EQ(p, PowerAction::Reboot);
  ASSERT_TRUE(signal_power_action(SIGUSR1, p));
  EXPECT_EQ(p, PowerAction::Halt);
  ASSERT_TRUE(signal_power_action(SIGPWR, p));
  EXPECT_EQ(p, PowerAction::Poweroff);
  EXPECT_FALSE(signal_power_action(SIGHUP, p));
}

TEST(Pid1Signals, BlockedSetLeavesFaultsToTheCrashHandler) {
  sigset_t set = pid1_blocked_signals();
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE, SIGQUIT, SIGUSR1, SIGUSR2, SIGPWR,
                SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM, SIGRTMIN + 3, SIGRTMAX}) {
    EXPECT_EQ(sigismember(&set, s), 1) << strsignal(s);
  }
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGKILL, SIGSTOP}) {
    EXPECT_EQ(sigismember(&set, s), 0) << strsignal(s);
  }
}

// Real signals through the real signalfd and event loop: power actions, reload, ignored
// signals that would otherwise kill the process, and SIGCHLD coalescing into a reap loop.
TEST(Pid1Signals, RealSignalsOnTheLoop) {
  EventLoop loop;
  std::vector<PowerAction> power;
  int reloads = 0;
  std::set<int> ignored;
  std::set<pid_t> exited;
  SignalHandlers h;
  h.power = [&](PowerAction a) { power.push_back(a); };
  h.reload = [&] { ++reloads; };
  h.ignored = [&](int s) { ignored.insert(s); };
  h.child_exited = [&](pid_t p, int status) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 7) exited.insert(p);
  };
  {
    Pid1Signals signals(loop, h);
    ASSERT_TRUE(signals.start());
    std::set<pid_t> children;
    for (int i = 0; i < 30; ++i) {
      pid_t c = fork();
      if (c == 0) _exit(7);
      children.insert(c);
    }
    for (int s : {SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM}) {
      ASSERT_EQ(kill(getpid(), s), 0);
    }
    for (int round = 0; round < 200 && (exited.size() < children.size() || power.size() < 3);
         ++round) {
      loop.run_once(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(exited, children);
    // Pending standard signals are delivered in signal-number order, not sending order.
    EXPECT_EQ(power, (std::vector<PowerAction>{PowerAction::Halt, PowerAction::Poweroff,
                                               PowerAction::Reboot}));
    EXPECT_EQ(reloads, 1);
    EXPECT_EQ(ignored, (std::set<int>{SIGQUIT, SIGPIPE, SIGALRM}));
  }
  // The watch is closed and the signals unblocked; nothing is left pending.
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGQUIT), 0);
}

}  // namespace
}  // namespace cairn::init::system
