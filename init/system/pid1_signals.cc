#include "init/system/pid1_signals.h"

#include "init/loop/signal_watch.h"

namespace cairn::init::system {
namespace {

bool is_synchronous_fault(int signo) {
  switch (signo) {
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGABRT:
    case SIGTRAP:
    case SIGSYS:
      return true;
    default:
      return false;
  }
}

}  // namespace

SignalAction signal_action(int signo) noexcept {
  switch (signo) {
    case SIGCHLD:
      return SignalAction::Reap;
    case SIGINT:
    case SIGTERM:
      return SignalAction::Reboot;
    case SIGUSR1:
      return SignalAction::Halt;
    case SIGUSR2:
    case SIGPWR:
      return SignalAction::Poweroff;
    case SIGHUP:
      return SignalAction::Reload;
    default:
      return SignalAction::Ignore;
  }
}

const char* to_string(SignalAction action) noexcept {
  switch (action) {
    case SignalAction::Ignore:
      return "ignore";
    case SignalAction::Reap:
      return "reap";
    case SignalAction::Reboot:
      return "reboot";
    case SignalAction::Poweroff:
      return "poweroff";
    case SignalAction::Halt:
      return "halt";
    case SignalAction::Reload:
      return "reload";
  }
  return "?";
}

bool signal_power_action(int signo, PowerAction& action) noexcept {
  switch (signal_action(signo)) {
    case SignalAction::Reboot:
      action = PowerAction::Reboot;
      return true;
    case SignalAction::Poweroff:
      action = PowerAction::Poweroff;
      return true;
    case SignalAction::Halt:
      action = PowerAction::Halt;
      return true;
    default:
      return false;
  }
}

sigset_t pid1_blocked_signals() noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (int signo = 1; signo <= SIGRTMAX; ++signo) {
    if (signo == SIGKILL || signo == SIGSTOP || is_synchronous_fault(signo)) continue;
    sigaddset(&set, signo);  // glibc refuses its two internal RT signals: fine
  }
  return set;
}

struct Pid1Signals::Impl {
  Impl(EventLoop& l, SignalHandlers h, SystemCalls& s)
      : loop(l), handlers(std::move(h)), sys(s), watch(l) {}
  ~Impl() {
    if (continue_timer != 0) loop.cancel_timer(continue_timer);
  }

  void reap() noexcept {
    constexpr size_t kBatch = 1024;
    size_t n = reap_children(sys, handlers.child_exited, kBatch);
    // A full batch may mean more zombies whose SIGCHLD already coalesced into this one:
    // come back on the next loop round instead of starving everything else.
    if (n == kBatch && continue_timer == 0) {
      continue_timer = loop.add_timer(std::chrono::milliseconds(0), [this] {
        continue_timer = 0;
        reap();
      });
    }
  }

  EventLoop& loop;
  SignalHandlers handlers;
  SystemCalls& sys;
  SignalWatch watch;
  EventLoop::TimerId continue_timer = 0;
};

Pid1Signals::Pid1Signals(EventLoop& loop, SignalHandlers handlers, SystemCalls& sys)
    : impl_(std::make_unique<Impl>(loop, std::move(handlers), sys)) {}

Pid1Signals::~Pid1Signals() = default;

bool Pid1Signals::start() noexcept {
  sigset_t set = pid1_blocked_signals();
  return impl_->watch.open(
      set, [this](const signalfd_siginfo& info) { handle(static_cast<int>(info.ssi_signo)); });
}

void Pid1Signals::handle(int signo) noexcept {
  SignalAction action = signal_action(signo);
  PowerAction power;
  switch (action) {
    case SignalAction::Reap:
      impl_->reap();
      return;
    case SignalAction::Reload:
      if (impl_->handlers.reload) impl_->handlers.reload();
      return;
    case SignalAction::Ignore:
      if (impl_->handlers.ignored) impl_->handlers.ignored(signo);
      return;
    default:
      if (signal_power_action(signo, power) && impl_->handlers.power) {
        impl_->handlers.power(power);
      }
      return;
  }
}

}  // namespace cairn::init::system
