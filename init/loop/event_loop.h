// The one event loop of cairn-init: epoll over file descriptors plus a timer heap. PID 1
// never sleeps-and-polls: it wakes only for a readable fd, a signal (signalfd) or a due
// timer. Callbacks run on the loop thread; the loop itself is single-threaded.
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
  using TimerId = uint64_t;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches fd for `events` (EPOLLIN, ...). The loop does not own the fd; unwatch before close.
  bool watch(int fd, uint32_t events, FdCallback callback) noexcept;
  bool modify(int fd, uint32_t events) noexcept;
  void unwatch(int fd) noexcept;

  TimerId add_timer(std::chrono::milliseconds delay, TimerCallback callback) noexcept;
  void cancel_timer(TimerId id) noexcept;

  // Runs one round: waits for at most `max_wait` (or the next timer), dispatches.
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
