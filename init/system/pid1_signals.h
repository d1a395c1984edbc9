// PID 1's signal map (docs/pid1.md). Every catchable signal except the synchronous faults is
// blocked and read from a signalfd on the event loop, so PID 1 never dies on a signal it did
// not ask for (a blocked signal has no default action), and SIGPIPE only makes write() fail.
//
//   SIGINT   ctrl-alt-del (after RB_DISABLE_CAD the kernel sends it instead of rebooting)
//                                                        -> reboot
//   SIGTERM                                              -> reboot
//   SIGUSR1                                              -> halt
//   SIGUSR2, SIGPWR                                      -> poweroff
//   SIGHUP                                               -> reload services
//   SIGCHLD                                              -> reap (waitpid loop)
//   anything else                                        -> ignored (logged)
//
// The synchronous faults (SIGSEGV SIGBUS SIGILL SIGFPE SIGABRT SIGTRAP SIGSYS) go to the
// crash handler (crash_handler.h); SIGKILL/SIGSTOP cannot be caught (the kernel never sends
// them to PID 1 from inside its namespace).
//
// Children inherit the blocked mask: the spawner must unblock all signals after fork.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <memory>

#include "init/loop/event_loop.h"
#include "init/system/power_action.h"
#include "init/system/reaper.h"
#include "init/system/system_calls.h"

namespace cairn::init::system {

enum class SignalAction { Ignore, Reap, Reboot, Poweroff, Halt, Reload };

SignalAction signal_action(int signo) noexcept;
const char* to_string(SignalAction action) noexcept;
// Power actions of the map as PowerAction (nullopt-like: returns false for others).
bool signal_power_action(int signo, PowerAction& action) noexcept;

// Every signal PID 1 blocks and reads from its signalfd: all of 1..SIGRTMAX except SIGKILL,
// SIGSTOP and the synchronous faults.
sigset_t pid1_blocked_signals() noexcept;

struct SignalHandlers {
  ChildExitCallback child_exited;          // each reaped child (pid, wait status)
  std::function<void(PowerAction)> power;  // SIGINT/SIGTERM/SIGUSR1/SIGUSR2/SIGPWR
  std::function<void()> reload;            // SIGHUP
  std::function<void(int signo)> ignored;  // optional: to log an ignored signal
};

// Owns PID 1's signalfd on the loop. Reaps in a bounded loop per SIGCHLD event.
class Pid1Signals {
 public:
  Pid1Signals(EventLoop& loop, SignalHandlers handlers, SystemCalls& sys = real_system_calls());
  ~Pid1Signals();
  Pid1Signals(const Pid1Signals&) = delete;
  Pid1Signals& operator=(const Pid1Signals&) = delete;

  // Blocks pid1_blocked_signals() and starts watching. False with errno set on failure.
  bool start() noexcept;
  // What one received signal does (public so tests can drive the map without signals).
  void handle(int signo) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::init::system
