// The one event loop of cairn-init: epoll over file descriptors plus a timer heap. PID 1
// never sleeps-and-polls: it wakes only for a readable fd, a signal (signalfd) or a due
// timer. Callbacks run on the loop thread; the loop itself is single-threaded.
//
// Callbacks may freely watch/unwatch fds and add/cancel timers, including their own: an fd
// unwatched during a round is not dispatched again in that round, a cancelled timer never
// fires, and a timer added during a round fires at the earliest in the next round.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace cairn::init {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using FdCallback = std::function<void(uint32_t epoll_events)>;
  using TimerCallback = std::function<void()>;
  using TimerId = uint64_t;  // 0 is never a valid id

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches fd for `events` (EPOLLIN, ...). The loop does not own the fd; unwatch before close.
  // Watching an fd that is already watched replaces its events and callback.
  bool watch(int fd, uint32_t events, FdCallback callback) noexcept;
  bool modify(int fd, uint32_t events) noexcept;
  void unwatch(int fd) noexcept;
  bool watching(int fd) const noexcept;

  // Returns 0 when the timer could not be added (allocation failure).
  TimerId add_timer(std::chrono::milliseconds delay, TimerCallback callback) noexcept;
  void cancel_timer(TimerId id) noexcept;
  size_t pending_timers() const noexcept;

  // Runs one round: waits for at most `max_wait` (or the next timer), dispatches.
  // A negative max_wait waits until an fd is ready or a timer is due.
  void run_once(std::chrono::milliseconds max_wait) noexcept;
  // Runs until stop() is called.
  void run() noexcept;
  void stop() noexcept { running_ = false; }

  Clock::time_point now() const noexcept { return Clock::now(); }

 private:
  struct Impl;
  Impl* impl_;
  bool running_ = false;
};

}  // namespace cairn::init
