// Signals delivered as loop events: blocks the given signals in the calling thread and reads
// them from a signalfd watched on the loop. Several pending instances of one standard signal
// coalesce into one event (as with any signal); SIGCHLD handlers must therefore reap in a
// waitpid(WNOHANG) loop rather than once per event.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include <functional>
#include <initializer_list>

#include "init/loop/event_loop.h"

namespace cairn::init {

class SignalWatch {
 public:
  using Callback = std::function<void(const signalfd_siginfo& info)>;

  explicit SignalWatch(EventLoop& loop) : loop_(loop) {}
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  // Blocks `signals` and starts delivering them to `callback`. False (errno set) on failure.
  bool open(std::initializer_list<int> signals, Callback callback) noexcept;
  bool open(const sigset_t& signals, Callback callback) noexcept;
  // Stops watching and unblocks the signals this watch blocked.
  void close() noexcept;
  int fd() const noexcept { return fd_; }

 private:
  void drain() noexcept;

  EventLoop& loop_;
  int fd_ = -1;
  sigset_t mask_{};
  Callback callback_;
};

}  // namespace cairn::init
